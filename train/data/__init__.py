"""Data for training: datasets and minibatches, token tools, and the shipped corpus.

- `loader.py`: `Dataset`, `TensorDataset`, `DataLoader` (vectorised batches, seeded shuffles).
- `tokens.py`: `tokenize`, `Vocab`, `skipgram_pairs`, `NegativeSampler`, `context_windows`,
  `STOP_WORDS`.
- `train.corpus`: `load_corpus` and what is known about the shipped corpus.
"""

from gradspace.train.corpus import ANALOGIES, RELATIONS, WORD_CLASSES, load_corpus
from gradspace.train.data.loader import DataLoader, Dataset, TensorDataset
from gradspace.train.data.tokens import (
    STOP_WORDS,
    NegativeSampler,
    Vocab,
    context_windows,
    skipgram_pairs,
    tokenize,
)

__all__ = [
    "ANALOGIES",
    "RELATIONS",
    "STOP_WORDS",
    "WORD_CLASSES",
    "DataLoader",
    "Dataset",
    "NegativeSampler",
    "TensorDataset",
    "Vocab",
    "context_windows",
    "load_corpus",
    "skipgram_pairs",
    "tokenize",
]
