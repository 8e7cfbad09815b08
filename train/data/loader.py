"""Datasets and the loader that cuts them into minibatches, as PyTorch's `torch.utils.data`.

    loader = DataLoader(TensorDataset(X, Y), batch_size=64, shuffle=True, seed=0)
    for xb, yb in loader:          # Tensors of 64 rows (the last batch may be smaller)
        ...

The hot path has no Python loop over examples: a dataset that can fetch many examples at once
(the batch protocol: a method `get_batch(indices)`, which TensorDataset has) is asked for each
batch with one integer array, and answers with one fancy-index per tensor. Any other Dataset
is read one item at a time and the items are stacked with numpy.
"""

from abc import ABC, abstractmethod

import numpy as np

from gradspace.autograd import Tensor, from_numpy


def _array(x):
    """The ndarray behind a Tensor, or x as an array."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


class Dataset(ABC):
    """A sized collection of examples: `len(ds)` and `ds[i]` for 0 <= i < len(ds).

    An example is an array, a number, a Tensor, or a tuple (or dict) of them. A subclass that
    can also answer `get_batch(indices)` with a whole batch is loaded without per-item calls.
    """

    @abstractmethod
    def __len__(self):
        ...

    @abstractmethod
    def __getitem__(self, index):
        ...


class TensorDataset(Dataset):
    """Examples that are rows of arrays: example i is `(t[i] for t in tensors)`.

    Takes Tensors or arrays that agree in their first dimension. Indexing with an int gives a
    tuple of Tensors (one row of each); with an integer array of indices, a tuple of batch
    Tensors, one fancy-index per tensor. The Tensors are wrapped afresh, outside any graph.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(_array(t) for t in tensors)
        if any(t.ndim == 0 for t in self.tensors):
            raise ValueError("TensorDataset tensors need a first dimension; got a 0-d one")
        lengths = [len(t) for t in self.tensors]
        if len(set(lengths)) > 1:
            raise ValueError(f"TensorDataset tensors must have the same first dimension, "
                             f"got lengths {lengths}")

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        if isinstance(index, np.ndarray):     # fancy indexing made new arrays: wrap, not copy
            return tuple(from_numpy(t[index]) for t in self.tensors)
        return tuple(Tensor(t[index]) for t in self.tensors)      # a row is a view: copied

    def get_batch(self, indices):
        """The batch protocol: examples `indices` (an int64 array) as a tuple of Tensors."""
        return self[indices]


def _collate(items):
    """Stack a list of examples into one batch with the same structure, as Tensors."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        return tuple(_collate([item[k] for item in items]) for k in range(len(first)))
    if isinstance(first, dict):
        return {key: _collate([item[key] for item in items]) for key in first}
    return from_numpy(np.stack([_array(item) for item in items]))     # a new array


class DataLoader:
    """Iterates over a dataset in minibatches; each epoch (each `for` loop) sees every example
    exactly once.

    batch_size: examples per batch; the last batch holds the remainder, or is dropped when
        `drop_last=True`. `len(loader)` is the number of batches in an epoch.
    shuffle: a new random order every epoch, drawn from the loader's own generator
        `np.random.default_rng(seed)`, so two loaders made with the same seed give the same
        batches epoch after epoch; with shuffle=False the order is 0, 1, ..., n-1.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {flag!r}")
        if not hasattr(dataset, "__len__"):
            raise ValueError(f"dataset must have a length, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = np.random.default_rng(seed)

    def __len__(self):
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        # The order is drawn here, not at the first batch, so every iter() is one epoch of
        # the generator whether or not the epoch is run to its end.
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        return self._batches(order)

    def _batches(self, order):
        fetch = getattr(self.dataset, "get_batch", None)
        for k in range(len(self)):
            indices = order[k * self.batch_size:(k + 1) * self.batch_size]
            if fetch is not None:
                yield fetch(indices)
            else:
                yield _collate([self.dataset[int(i)] for i in indices])
