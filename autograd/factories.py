"""Making tensors: constants, ranges, random draws, and joining tensors together."""
import numpy as np

from gradspace.autograd.dtypes import check_dtype, defaults, to_array
from gradspace.autograd.ops.arguments import check_dim, shape_arg
from gradspace.autograd.ops.elementwise import Where
from gradspace.autograd.ops.shape import Cat
from gradspace.autograd.tensor import Tensor, from_numpy


class _Random:
    generator = np.random.default_rng()


random_state = _Random()


def manual_seed(seed):
    """Seed the generator behind randn, rand, randint and nn's initializations and dropout."""
    random_state.generator = np.random.default_rng(seed)
    return random_state.generator


def default_generator():
    """The np.random.Generator behind randn, rand, randint, nn.init and dropout.

    manual_seed replaces it with a new one, so ask for it at each draw rather than keeping it.
    (PyTorch's torch.default_generator is an object; here the generator is numpy's.)
    """
    return random_state.generator


def as_tensor(data, dtype=None):
    """data as a Tensor, sharing memory where it can, as torch.as_tensor does.

    A Tensor of the dtype asked for is returned as it is (another dtype: `data.to(dtype)`).
    An np.ndarray becomes a Tensor over the same array, with no copy when the dtype fits: a
    constant outside the graph, for masks and weights made with numpy. A Python number or
    list follows Tensor's rules, so `as_tensor(0.5, dtype=x.dtype)` lifts a number to x's
    dtype (float32 stays float32).
    """
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        return from_numpy(to_array(data, dtype))       # cast (a copy) only when asked
    return Tensor(data, dtype=dtype)


def _float(dtype):
    return defaults.float_dtype if dtype is None else check_dtype(dtype)


def _fresh(array, requires_grad=False):
    """A Tensor over an array made here: nobody else holds it, so it is not copied."""
    return from_numpy(array).requires_grad_(requires_grad)


def zeros(*shape, dtype=None, requires_grad=False):
    return _fresh(np.zeros(shape_arg(shape), _float(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    return _fresh(np.ones(shape_arg(shape), _float(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    shape = shape_arg((shape,))
    if dtype is None and isinstance(fill_value, (bool, int)):
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64
    return _fresh(np.full(shape, fill_value, _float(dtype)), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return _fresh(np.zeros(t.shape, t.dtype if dtype is None else dtype),
                  requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return _fresh(np.ones(t.shape, t.dtype if dtype is None else dtype),
                  requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Like range(): integers when start, end and step are ints, else the default float dtype."""
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = np.int64 if values.dtype.kind == "i" else defaults.float_dtype
    return _fresh(values.astype(dtype), requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _fresh(np.eye(n, m, dtype=_float(dtype)), requires_grad=requires_grad)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples from the generator that manual_seed sets."""
    values = random_state.generator.standard_normal(shape_arg(shape))
    return _fresh(values.astype(_float(dtype)), requires_grad=requires_grad)


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1) from the generator that manual_seed sets."""
    values = random_state.generator.random(shape_arg(shape))
    return _fresh(values.astype(_float(dtype)), requires_grad=requires_grad)


def randint(low, high=None, size=(), dtype=np.int64):
    """Integers in [low, high) (or [0, low) when high is None)."""
    if high is None:
        low, high = 0, low
    return _fresh(random_state.generator.integers(low, high, size=size).astype(dtype))


def _tensors(tensors, op):
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{op}: expects a non-empty sequence of tensors")
    return tensors


def cat(tensors, dim=0):
    """Join tensors along an existing dim; all other dims must match."""
    tensors = _tensors(tensors, "cat")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    return Cat.apply(*tensors, dim=check_dim(dim, ndim, "cat"))


def stack(tensors, dim=0):
    """Join tensors of one shape along a new dim."""
    tensors = _tensors(tensors, "stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: expects tensors of one shape, got {sorted(shapes)}")
    ndim = tensors[0].ndim + 1
    dim = check_dim(dim, ndim, "stack")
    return Cat.apply(*[t.unsqueeze(dim) for t in tensors], dim=dim)


def where(condition, a, b):
    """a where condition is true, else b; the gradient flows to the chosen side only."""
    condition = condition if isinstance(condition, Tensor) else Tensor(condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {condition.dtype}")
    if isinstance(a, Tensor):
        b = a._lift(b)
    elif isinstance(b, Tensor):
        a = b._lift(a)
    else:
        a, b = Tensor(a), Tensor(b)
    return Where.apply(condition, a, b)
