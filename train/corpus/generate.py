"""A seeded generator of a toy English-like corpus whose structure is known.

    python -m gradspace.train.corpus.generate            # rewrites train/corpus/default.txt
    python -m gradspace.train.corpus.generate --help

Every sentence comes from a template with slots, and every slot is filled from one word class
of `lexicon.py`, so the words of a class share their contexts: skip-gram embeddings of this
text cluster by class, and the relations planted in `lexicon.py` show up as analogies.

The text is lowercase ascii: letters, spaces, one sentence per line, each ending in a period.
Only the generator's own `np.random.Generator(seed)` is drawn from, so a seed fixes the text.
The shipped default (14,000 sentences, seed 0) is about 440 KB: 83,000 words, 176 distinct
ones, of which 139 belong to 16 classes, each class word seen at least ~120 times.
"""

import argparse
from pathlib import Path

import numpy as np

from gradspace.train.corpus.lexicon import (
    ANIMALS,
    COLOURS,
    DAYS,
    EAT_VERBS,
    FEELINGS,
    FOODS,
    MOTION_VERBS,
    NAMES,
    NATIONS,
    NUMBERS,
    PEOPLE,
    PLACES,
)

DEFAULT_PATH = Path(__file__).with_name("default.txt")
DEFAULT_SENTENCES = 14_000
DEFAULT_SEED = 0


class _Writer:
    """Fills templates; `pick` draws one item uniformly from a list."""

    def __init__(self, rng):
        self.rng = rng

    def pick(self, items):
        return items[self.rng.integers(len(items))]

    def coin(self, p=0.5):
        return self.rng.random() < p

    # Noun phrases. Singular animals take "a" and "was", plural ones numbers and "were".
    def singular(self):
        animal = self.pick(ANIMALS)
        det = self.pick(["the", "a", "a " + self.pick(COLOURS)])
        return f"{det} {animal[0]}", animal, "was"

    def plural(self):
        animal = self.pick(ANIMALS)
        number = self.pick(NUMBERS)
        det = self.pick(["the", "the " + self.pick(COLOURS), number, number])  # half numbers
        return f"{det} {animal[1]}", animal, "were"

    def person(self):
        """A gendered person with the pronouns that mark the side: (phrase, he, his, work)."""
        male, female, work = self.pick(PEOPLE)
        if self.coin():
            return f"the {male}", "he", "his", work
        return f"the {female}", "she", "her", work

    def agent(self):
        """Anyone who can eat or travel: a name, a person, or an animal."""
        kind = self.rng.integers(4)
        if kind == 0:
            return self.pick(NAMES)
        if kind == 1:
            return self.person()[0]
        return (self.singular() if kind == 2 else self.plural())[0]

    def when(self):
        return f" on {self.pick(DAYS)}" if self.coin(0.4) else ""

    # Templates: each returns one sentence without its period.
    def eating(self):
        return f"{self.agent()} {self.pick(EAT_VERBS)} the {self.pick(FOODS)}{self.when()}"

    def moving(self):
        return f"{self.agent()} {self.pick(MOTION_VERBS)} to the {self.pick(PLACES)}{self.when()}"

    def travel(self):
        who = self.pick(NAMES) if self.coin() else self.person()[0]
        return f"{who} {self.pick(MOTION_VERBS)} to {self.pick(NATIONS)[1]}{self.when()}"

    def sound(self):
        phrase, animal, _ = self.singular() if self.coin() else self.plural()
        return f"{phrase} {animal[2]} near the {self.pick(PLACES)}"

    def feeling(self):
        phrase, _, verb = self.singular() if self.coin() else self.plural()
        return f"{phrase} {verb} {self.pick(FEELINGS)}{self.when()}"

    def gender(self):
        phrase, he, his, work = self.person()
        return self.pick([
            f"{phrase} said {he} was {self.pick(FEELINGS)}",
            f"{phrase} and {his} {self.pick(ANIMALS)[0]} went to the {self.pick(PLACES)}",
            f"{phrase} {work}",
            f"{phrase} {work} and {he} was {self.pick(FEELINGS)}",
        ])

    def nation(self):
        country, capital, language = self.pick(NATIONS)
        return self.pick([
            f"{capital} is the capital of {country}",
            f"people in {country} speak {language}",
            f"people in {capital} speak {language}",
            f"{self.pick(NAMES)} lives in {country}",
            f"{self.pick(NAMES)} speaks {language}",
        ])

    def sentence(self):
        # gender and nation are drawn twice as often: each holds several templates, and they
        # carry the relations. (Their lists fill every template before picking one; the extra
        # draws come from the same seeded generator, so the text stays reproducible.)
        template = self.pick([
            self.eating, self.moving, self.travel, self.sound, self.feeling,
            self.gender, self.gender, self.nation, self.nation,
        ])
        return template() + "."


def generate(n_sentences=DEFAULT_SENTENCES, seed=DEFAULT_SEED):
    """The corpus text: `n_sentences` lines, each one sentence ending in ".\\n"."""
    if n_sentences < 0:
        raise ValueError(f"n_sentences must be >= 0, got {n_sentences}")
    writer = _Writer(np.random.default_rng(seed))
    return "".join(writer.sentence() + "\n" for _ in range(n_sentences))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=DEFAULT_SENTENCES)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    text = generate(args.sentences, args.seed)
    args.out.write_text(text, encoding="ascii")
    print(f"wrote {args.out} ({len(text):,} characters, {args.sentences:,} sentences)")


if __name__ == "__main__":
    main()
