"""Hypothesis strategies for the engine's tests: small shapes (0-d and size-1 dims included),
broadcastable shape pairs, float64 arrays on the domains where each op is smooth, and `dim`
arguments in every form the contract allows (None, int, negative int, tuple).

Sizes stay at or below MAX_ELEMENTS: a gradcheck costs two forward passes per input element.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradspace import autograd

MAX_ELEMENTS = 24
BOUND = 3.0


def _small(shape):
    return int(np.prod(shape)) <= MAX_ELEMENTS


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes with at most MAX_ELEMENTS elements; 0-d and size-1 dims included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side).filter(_small)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4):
    """A tuple of shapes that broadcast together to a result of at most MAX_ELEMENTS elements."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1,
        max_side=max_side).filter(lambda b: _small(b.result_shape)).map(lambda b: b.input_shapes)


# -- element strategies: the domain on which an op is smooth ---------------------------------

def bounded(low=-BOUND, high=BOUND):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def positive(low=0.2, high=BOUND):
    """Away from 0: log, sqrt, division and powers with a real exponent stay smooth and tame."""
    return bounded(low, high)


def away_from(points, margin=0.1, low=-BOUND, high=BOUND):
    """Floats at least `margin` from every kink in `points` (relu/abs at 0, clamp's bounds).

    The margin is far above gradcheck's eps (1e-6), so a finite difference never straddles a
    kink.
    """
    points = tuple(points)
    return bounded(low, high).filter(lambda v: all(abs(v - p) >= margin for p in points))


def on_lattice(offset, jitter=0.1):
    """k + offset + jitter for integer k. Values from on_lattice(0) and on_lattice(0.5) are
    never within 0.5 - 2 * jitter of each other: maximum/minimum meet no tie, even broadcast.
    """
    return st.builds(lambda k, j: k + offset + j, st.integers(-3, 2), bounded(-jitter, jitter))


def arrays(shape, elements=None, dtype=np.float64):
    """float64 arrays of `shape` with bounded values by default."""
    return hnp.arrays(dtype, shape, elements=bounded() if elements is None else elements)


@st.composite
def distinct_arrays(draw, shape, gap=0.1):
    """Arrays whose values all differ by at least `gap`: max/min have no tie (the smooth path).

    A random permutation of an evenly spaced grid, randomly scaled and shifted.
    """
    n = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    scale = draw(bounded(gap, 1.0))
    shift = draw(bounded(-1.0, 1.0))
    return (shift + scale * (order - n / 2)).reshape(shape)


# -- dims for reductions ---------------------------------------------------------------------

def dims(ndim, allow_none=True):
    """A reduction's `dim`: None, an int (negative too) or a non-empty tuple of distinct axes.

    (An empty tuple is left out: numpy reads it as "no axis", PyTorch as "every axis".)
    """
    axes = list(range(-ndim, ndim)) if ndim else [0, -1]
    single = st.sampled_from(axes)
    several = st.lists(st.sampled_from(axes), min_size=1, max_size=max(ndim, 1)).filter(
        lambda ds: len({d % max(ndim, 1) for d in ds}) == len(ds)).map(tuple)
    options = [single, several]
    if allow_none:
        options.append(st.none())
    return st.one_of(*options)


def one_dim(ndim):
    """A single axis of an ndim >= 1 array, possibly negative."""
    return st.sampled_from(list(range(-ndim, ndim)))


def normalized(dim, ndim):
    """`dim` as numpy's axis argument (a tuple of non-negative axes, or None)."""
    if dim is None:
        return None
    ds = (dim,) if isinstance(dim, int) else dim
    return tuple(sorted(d % max(ndim, 1) for d in ds)) if ndim else ()


# -- the check every differentiable op goes through ------------------------------------------

def check_op(f, *inputs, reference=None, second=True, atol=1e-12):
    """Assert that f passes gradcheck (and gradgradcheck unless second=False) at `inputs`, and,
    given a numpy `reference`, that f's value equals numpy's on the same arrays.

    Forward mode is checked too: every op's jvp against the finite differences and against
    the transpose of its vjp, and (with second) tangents flowing through its backward pass.
    An op without a jvp fails here.

    Floating inputs are float64 arrays and are all checked; integer and bool inputs (indices,
    masks) pass through unchanged.
    """
    if reference is not None:
        out = f(*[autograd.Tensor(x) for x in inputs])
        expected = np.asarray(reference(*inputs))
        assert out.shape == expected.shape, (out.shape, expected.shape)
        np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=atol)
    assert autograd.gradcheck(f, inputs, check_forward_ad=True)
    if second:
        assert autograd.gradgradcheck(f, inputs, check_fwd_over_rev=True)
