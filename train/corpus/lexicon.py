"""The words of the shipped corpus: word classes, and the relations planted among them.

Everything here is data. `generate.py` turns it into sentences; tests and recipes use
`WORD_CLASSES`, `RELATIONS` and `ANALOGIES` to measure what an embedding learned.

How a relation is planted. Each word of a pair (x, y) is a sum of two factors that skip-gram
can see in its contexts: a *side* (singular or plural, male or female, country or capital)
shared by every pair, and an *identity* shared by the two words of one pair only (the sound
both `dog` and `dogs` make, the work both `king` and `queen` do, the language spoken in both
`france` and `paris`). Then  x_i - x_j + y_j  keeps the identity of pair i and the side y,
which is  y_i:  king - man + woman = queen.
"""

# (singular, plural, the sound both make): plural contexts are numbers, "many", "were";
# singular contexts are "a", "was"; the sound is the identity of the pair.
ANIMALS = [
    ("cat", "cats", "purred"),
    ("dog", "dogs", "barked"),
    ("cow", "cows", "mooed"),
    ("duck", "ducks", "quacked"),
    ("wolf", "wolves", "howled"),
    ("horse", "horses", "neighed"),
    ("pig", "pigs", "oinked"),
    ("lion", "lions", "roared"),
    ("frog", "frogs", "croaked"),
    ("owl", "owls", "hooted"),
]

# (male, female, the work both do): "he"/"his" against "she"/"her" is the side.
PEOPLE = [
    ("king", "queen", "ruled the kingdom"),
    ("prince", "princess", "rode to the castle"),
    ("man", "woman", "worked in the village"),
    ("boy", "girl", "played with the ball"),
    ("father", "mother", "cared for the children"),
    ("uncle", "aunt", "told a long story"),
]

# (country, capital, the language spoken in both).
NATIONS = [
    ("france", "paris", "french"),
    ("italy", "rome", "italian"),
    ("germany", "berlin", "german"),
    ("japan", "tokyo", "japanese"),
    ("china", "beijing", "chinese"),
    ("russia", "moscow", "russian"),
    ("greece", "athens", "greek"),
    ("spain", "madrid", "spanish"),
]

FOODS = ["bread", "apples", "cheese", "rice", "soup", "fish", "cake", "corn", "honey", "eggs"]
COLOURS = ["red", "blue", "green", "yellow", "black", "white", "brown", "grey"]
PLACES = ["park", "garden", "forest", "river", "market", "beach", "farm", "lake"]
NAMES = ["anna", "tom", "maria", "peter", "lucy", "james", "sara", "david"]
EAT_VERBS = ["ate", "cooked", "bought", "sold", "liked", "shared", "baked", "tasted"]
MOTION_VERBS = ["ran", "walked", "swam", "flew", "drove", "sailed", "hurried", "travelled"]
NUMBERS = ["two", "three", "four", "five", "six", "seven", "eight", "nine"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
FEELINGS = ["happy", "sad", "tired", "hungry", "angry", "calm", "sleepy", "proud"]

# Class name -> its words. Words outside every class ("the", "to", "kingdom", ...) carry the
# sentence frame and are not scored.
WORD_CLASSES: dict[str, list[str]] = {
    "animals": [s for s, _, _ in ANIMALS],
    "animals_plural": [p for _, p, _ in ANIMALS],
    "animal_sounds": [v for _, _, v in ANIMALS],
    "people": [w for m, f, _ in PEOPLE for w in (m, f)],
    "countries": [c for c, _, _ in NATIONS],
    "capitals": [c for _, c, _ in NATIONS],
    "languages": [lang for _, _, lang in NATIONS],
    "foods": FOODS,
    "colours": COLOURS,
    "places": PLACES,
    "names": NAMES,
    "eat_verbs": EAT_VERBS,
    "motion_verbs": MOTION_VERBS,
    "numbers": NUMBERS,
    "days": DAYS,
    "feelings": FEELINGS,
}

# Relation name -> pairs (x, y) that differ by the same offset y - x.
RELATIONS: dict[str, list[tuple[str, str]]] = {
    "plural": [(s, p) for s, p, _ in ANIMALS],
    "female": [(m, f) for m, f, _ in PEOPLE],
    "capital": [(c, cap) for c, cap, _ in NATIONS],
}


def _quadruples(pairs):
    """(a, b, c, d) with a - b + c = d, both ways round, for every two pairs of a relation."""
    quads = []
    for i, (xi, yi) in enumerate(pairs):
        for j, (xj, yj) in enumerate(pairs):
            if i != j:
                quads.append((xi, xj, yj, yi))  # king - man + woman = queen
                quads.append((yi, yj, xj, xi))  # queen - woman + man = king
    return quads


# Every analogy the corpus plants, as (a, b, c, d): the answer to a - b + c is d.
ANALOGIES: list[tuple[str, str, str, str]] = [
    q for pairs in RELATIONS.values() for q in _quadruples(pairs)
]
