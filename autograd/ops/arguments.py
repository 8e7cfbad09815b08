"""The arguments many operations share, parsed in one place: a shape and a dim.

A shape comes as `f(2, 3)` or `f((2, 3))` (PyTorch accepts both); a dim is an int counting
from the end when negative, checked against the number of dims; a reduction's `dim` is None
(every axis), an int or a tuple of ints.
"""
import numpy as np


def shape_arg(shape):
    """The `*shape` arguments of reshape, view, permute, expand, zeros...: (2, 3) or ((2, 3),)."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        return tuple(shape[0])
    return tuple(shape)


def check_dim(dim, ndim, op):
    """`dim` as a non-negative axis of a tensor with `ndim` dims (a 0-d tensor has dim 0 or -1)."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims "
                         f"(expected one in [{-size}, {size - 1}])")
    return int(dim) % size


def normalize_dims(dim, ndim, op):
    """`dim` as a sorted tuple of non-negative axes (all axes when None), checked against ndim."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = [check_dim(d, ndim, op) for d in dims]
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} repeats an axis")
    return tuple(sorted(out)) if ndim else ()


def kept_shape(shape, dims):
    """The shape of a reduction over `dims` with keepdim=True."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))
