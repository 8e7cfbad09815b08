"""Indexing: reading elements out (`a[index]`, embedding lookups) and scattering gradients back.

Reading is a gather; its derivative is a scatter-add into zeros of the input's shape, where an
element read twice receives both gradients. The scatter's derivative is the gather again, so
every order of derivative is a gather or a scatter.
"""
import numpy as np

from gradspace.autograd import forward_ad
from gradspace.autograd.function import Function
from gradspace.autograd.grad_mode import grad_enabled


def is_advanced(index):
    """Whether `index` holds integer arrays, which may repeat elements (basic indexing cannot)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


class Index(Function):
    __slots__ = ("index",)
    saved = ("index",)
    reads = {}

    def forward(self, a, index=()):
        self.index = index
        return a[index]

    formulas = ("dL/da = scatter_add(zeros_like(a), index, dL/dout)",)
    def backward(self, grad, out):
        return (ScatterAdd.apply(grad, shape=self.inputs[0].shape, index=self.index),)

    def jvp(self, out, da):
        return Index.apply(da, index=self.index)


class ScatterAdd(Function):
    """zeros(shape) with `a` added at `index`; repeated indices accumulate."""
    __slots__ = ("index",)
    saved = ("index",)
    reads = {}

    def forward(self, a, shape=(), index=()):
        self.index = index
        total = np.zeros(shape, dtype=a.dtype)
        if is_advanced(index):
            np.add.at(total, index, a)
        else:
            total[index] = a
        return total

    formulas = ("dL/da = dL/dout[index]",)
    def backward(self, grad, out):
        return (Index.apply(grad, index=self.index),)

    def jvp(self, out, da):
        return ScatterAdd.apply(da, shape=out.shape, index=self.index)


class EmbeddingLookup(Function):
    """Rows of a table: out[..., :] = weight[ids[...], :].

    Its gradient for `weight` touches only the looked-up rows. Unless the backward pass is being
    recorded (create_graph=True) or `sparse=False`, it is a `RowSparseGrad` holding just those
    rows, so a step over a 50,000-row table never makes a pass over the whole table. Rows with
    id `padding_idx` get no gradient.
    """
    __slots__ = ("ids", "padding_idx", "sparse")
    saved = ("ids",)
    reads = {}

    def forward(self, weight, ids=None, padding_idx=None, sparse=True):
        self.ids, self.padding_idx, self.sparse = ids, padding_idx, sparse
        return np.take(weight, ids, axis=0)

    formulas = ("dL/dweight = scatter_add(zeros_like(weight), ids, dL/dout)",)
    def backward(self, grad, out):
        weight = self.inputs[0]
        ids = self.ids.reshape(-1)
        rows = grad.reshape(ids.shape[0], *weight.shape[1:])
        if self.padding_idx is not None:
            rows = rows * (ids != self.padding_idx).reshape((-1,) + (1,) * (weight.ndim - 1))
        if self.sparse and not grad_enabled() and not forward_ad.in_dual_level():
            return (weight._row_sparse(ids, rows.data),)
        return (ScatterAdd.apply(rows, shape=weight.shape, index=ids),)

    def jvp(self, out, dweight):
        return EmbeddingLookup.apply(dweight, ids=self.ids)    # the same rows of the tangent


def _as_index(index):
    """Turn Tensors and lists inside an index into numpy arrays."""
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if hasattr(p, "grad_fn") and hasattr(p, "data"):      # a Tensor
            p = p.data
        elif isinstance(p, list):
            p = np.asarray(p)
        if isinstance(p, np.ndarray) and p.dtype.kind not in "iub":
            raise IndexError(f"index arrays must hold integers or booleans, got {p.dtype}")
        out.append(p)
    return tuple(out) if isinstance(index, tuple) else out[0]


class IndexingMethods:
    """The Tensor methods of this family (mixed into Tensor)."""
    __slots__ = ()

    def __getitem__(self, index):
        """numpy indexing: ints, slices, None, Ellipsis, boolean masks, integer arrays/Tensors."""
        return Index.apply(self, index=_as_index(index))

    def embedding(self, ids, padding_idx=None, sparse=True):
        """Rows of this (num, dim) table for integer `ids` of any shape -> ids.shape + (dim,)."""
        ids = np.asarray(ids.data if hasattr(ids, "grad_fn") else ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"embedding: ids must be integers, got dtype {ids.dtype}")
        return EmbeddingLookup.apply(self, ids=ids, padding_idx=padding_idx, sparse=sparse)
