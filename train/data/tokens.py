"""From text to integer ids, and from ids to training examples, vectorised with numpy.

    tokens = tokenize(text)                       # ["the", "dog", "barked", ...]
    vocab = Vocab(tokens, min_count=2)            # "<unk>" is id 0
    ids = vocab.encode(tokens)                    # int64 array
    centers, contexts = skipgram_pairs(ids, window=2)
    negatives = NegativeSampler(vocab.counts, seed=0).sample((len(centers), 5))
    X, Y = context_windows(ids, block_size=8)     # X[i] is followed by Y[i]
"""

import json
import re
from collections import Counter

import numpy as np

from gradspace.train.checkpoint import atomic_open

# A word is a run of letters, possibly joined by inner apostrophes: "don't" is one word,
# "'quoted'" is "quoted". Digits, punctuation and whitespace separate words and are dropped.
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")

# English function words: frequent in any text, and telling little about its subject. Used to
# pick the content words worth looking at in an embedding of one's own text; never removed
# from the training text (skip-gram learns from them as context).
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
it's its itself just me more most my myself no nor not now of off on once only or other our
ours ourselves out over own said same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up upon us very was we
were what when where which while who whom why will with would you your yours yourself
""".split())


def tokenize(text, level="word"):
    """Split `text` into tokens.

    level="word": lowercase, then every maximal run of letters (Unicode letters, with
        apostrophes allowed inside a word) is a token; everything else separates tokens.
    level="char": every character is a token, as written: case is kept, and so are spaces
        and newlines ("\\n" is the natural boundary token for a line-per-sentence text).
    """
    if level == "word":
        return _WORD.findall(text.lower())
    if level == "char":
        return list(text)
    raise ValueError(f'level must be "word" or "char", got {level!r}')


class Vocab:
    """A two-way map between tokens and ids.

    Id 0 is the unknown token "<unk>"; next come `specials` in the order given (e.g. a padding
    or boundary token), then every token seen at least `min_count` times, by descending count,
    ties alphabetically, so the same tokens always give the same ids. `counts[i]` is how often
    id i occurred in the building tokens; `counts[0]` counts the rare tokens folded into
    "<unk>". `encode` maps unknown tokens to 0.
    """

    UNK = "<unk>"

    def __init__(self, tokens=(), min_count=1, specials=()):
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        counter = Counter(tokens)
        reserved = [self.UNK] + [s for s in specials if s != self.UNK]
        if len(set(reserved)) != len(reserved):
            raise ValueError(f"specials repeat a token: {list(specials)}")
        kept = sorted(
            (t for t, n in counter.items() if n >= min_count and t not in reserved),
            key=lambda t: (-counter[t], t),
        )
        rare = sum(n for t, n in counter.items() if n < min_count and t not in reserved)
        counts = [counter.get(t, 0) for t in reserved] + [counter[t] for t in kept]
        counts[0] += rare
        self._set(reserved + kept, counts)

    def _set(self, itos, counts):
        self.itos = list(itos)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.counts = np.asarray(counts, dtype=np.int64)

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        """The id of one token (0 if unknown)."""
        return self.stoi.get(token, 0)

    def __repr__(self):
        return f"Vocab(size={len(self)}, tokens={sum(self.counts):,})"

    def encode(self, tokens):
        """Ids of `tokens` as an int64 array; unknown tokens become 0. A str is a sequence of
        characters, which is what a character-level vocabulary wants."""
        get = self.stoi.get
        return np.fromiter((get(t, 0) for t in tokens), dtype=np.int64)

    def decode(self, ids):
        """Tokens of `ids` (a sequence, an integer array, or a Tensor) as a list of str."""
        ids = np.asarray(getattr(ids, "data", ids) if not isinstance(ids, np.ndarray) else ids)
        ids = ids.reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            bad = ids[(ids < 0) | (ids >= len(self))][0]
            raise IndexError(f"id {bad} is out of range for a vocabulary of {len(self)}")
        return [self.itos[i] for i in ids.tolist()]

    def save(self, path):
        """Write the vocabulary as JSON, to a temporary file renamed into place, so a crash
        mid-write leaves any previous file intact."""
        payload = {"format": "gradspace.vocab", "version": 1,
                   "itos": self.itos, "counts": self.counts.tolist()}
        with atomic_open(path, "w", encoding="utf-8") as f:
            json.dump(payload, f, ensure_ascii=False)

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by `save`; a file of another kind raises ValueError."""
        with open(path, encoding="utf-8") as f:
            try:
                payload = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path} is not a saved Vocab: {e}") from None
        if not isinstance(payload, dict) or payload.get("format") != "gradspace.vocab":
            raise ValueError(f"{path} is not a saved Vocab")
        itos, counts = payload.get("itos"), payload.get("counts")
        if (not isinstance(itos, list) or not isinstance(counts, list) or not itos
                or len(itos) != len(counts) or itos[0] != cls.UNK):
            raise ValueError(f"{path} is a damaged Vocab: itos and counts disagree")
        vocab = cls.__new__(cls)
        vocab._set(itos, counts)
        return vocab


def _ids_1d(ids, name="ids"):
    ids = np.asarray(getattr(ids, "data", ids) if not isinstance(ids, np.ndarray) else ids)
    if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-d integer array, got shape {ids.shape} "
                         f"of {ids.dtype}")
    return ids.astype(np.int64, copy=False)


def skipgram_pairs(ids, window):
    """All (center, context) pairs with  1 <= |position(context) - position(center)| <= window.

    Returns two int64 arrays of equal length, grouped by offset (-window .. -1, 1 .. window),
    in text order within an offset: one numpy slice per offset, no loop over tokens.
    A sequence of n >= window tokens gives 2 * sum_{o=1..window} (n - o) pairs.
    """
    ids = _ids_1d(ids)
    if int(window) != window or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window}")
    window, n = int(window), len(ids)
    offsets = [o for o in range(-window, window + 1) if o != 0 and abs(o) < n]
    # Offset o pairs ids[i] with ids[i + o]: for o > 0 that is ids[:n-o] with ids[o:].
    centers = [ids[max(0, -o): n - max(0, o)] for o in offsets]
    contexts = [ids[max(0, o): n - max(0, -o)] for o in offsets]
    empty = np.empty(0, dtype=np.int64)
    return (np.concatenate(centers) if offsets else empty,
            np.concatenate(contexts) if offsets else empty)


class NegativeSampler:
    """Draws ids with probability  P(i) = counts[i]^power / sum_j counts[j]^power.

    power=0.75 is word2vec's smoothed unigram: rare words are drawn more often than their
    frequency, frequent ones less. Drawing inverts the CDF: uniform numbers are looked up in
    the cumulative probabilities with one `searchsorted`, so a sample of any size is one numpy
    call. The generator `np.random.default_rng(seed)` belongs to the sampler.
    """

    def __init__(self, counts, power=0.75, seed=None):
        counts = np.asarray(getattr(counts, "data", counts), dtype=np.float64)
        if counts.ndim != 1 or counts.size == 0:
            raise ValueError(f"counts must be a non-empty 1-d array, got shape {counts.shape}")
        if np.any(counts < 0) or not np.all(np.isfinite(counts)):
            raise ValueError("counts must be finite and >= 0")
        with np.errstate(divide="ignore"):  # a zero count has weight 0, even if power <= 0
            weights = np.where(counts > 0, counts ** power, 0.0)
        if weights.sum() <= 0:
            raise ValueError("counts are all zero: there is nothing to sample")
        self.probs = weights / weights.sum()
        self._cdf = np.cumsum(self.probs)
        self._cdf /= self._cdf[-1]  # exactly 1 at the end, whatever the rounding
        self.rng = np.random.default_rng(seed)

    def sample(self, shape):
        """An int64 array of `shape` (an int or a tuple) of ids drawn independently."""
        u = self.rng.random(shape)
        # side="right": id i is drawn for u in [cdf[i-1], cdf[i]); ids of probability 0 never.
        ids = np.searchsorted(self._cdf, u, side="right")
        return np.minimum(ids, len(self.probs) - 1).astype(np.int64)


def context_windows(ids, block_size, pad_id=None):
    """Next-token examples: X[i] = ids[i : i + block_size], Y[i] = ids[i + block_size].

    Returns X of shape (n, block_size) and Y of shape (n,), n = len(ids) - block_size
    (zero examples if the text is not longer than a block). X is a read-only sliding-window
    view of the ids, not a copy; fancy-indexing it (as a DataLoader does) gives fresh arrays.

    Start convention: with `pad_id`, the ids are first left-padded with block_size copies of
    pad_id, so every token, the first included, is a target exactly once (n = len(ids)) and
    the first contexts are all padding, as in a Bengio-style MLP. To also mark where lines
    or documents start, put a boundary token (e.g. "\\n") into the ids yourself.
    """
    ids = _ids_1d(ids)
    if int(block_size) != block_size or block_size < 1:
        raise ValueError(f"block_size must be an integer >= 1, got {block_size}")
    block_size = int(block_size)
    if pad_id is not None:
        ids = np.concatenate([np.full(block_size, pad_id, dtype=np.int64), ids])
    if len(ids) <= block_size:
        return np.empty((0, block_size), dtype=np.int64), np.empty(0, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(ids, block_size + 1)  # (n, block + 1)
    return windows[:, :-1], windows[:, -1]
