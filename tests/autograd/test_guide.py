"""The guide's statements about gradients (seed guide, section 1 and Appendix A), as tests of the
engine's gradients:

    D_u f(x) = grad f(x) . u = lim_{h -> 0} (f(x + h u) - f(x)) / h
    f(x + h) = f(x) + grad f(x) . h + o(|h|), and grad f(x) is the unique vector doing this
    grad f(x) points in the direction of steepest ascent, and |grad f(x)| is that rate.

Everything is float64; step sizes stay far above rounding error.
"""
import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import arrays

from gradspace import autograd
from gradspace.autograd import Tensor

N = 5
STEPS = np.logspace(-2, -5, 7)      # small enough for Taylor, far above rounding


def f(x):
    """A smooth f: R^5 -> R with curvature in every direction that matters here."""
    return (x.sin() * x).sum() + (x * x).sum().sqrt() * x.sum() + (x[:3] * x[2:]).sum().exp()


def value(a):
    return f(Tensor(a)).item()


def gradient(a):
    return autograd.grad(f)(a).data


def slope(hs, errors):
    """The exponent p in errors ~ C h^p, by least squares on the log-log plot."""
    return np.polyfit(np.log(hs), np.log(errors), 1)[0]


def unit(v):
    return v / np.linalg.norm(v)


points = arrays((N,), st.floats(0.2, 1.0)).map(lambda a: a * np.array([1, -1, 1, -1, 1]))
directions = arrays((N,), st.floats(-1, 1)).filter(lambda v: np.linalg.norm(v) > 0.3).map(unit)


@given(x=points, u=directions)
def test_directional_derivative_is_grad_dot_u_and_the_limit_of_difference_quotients(x, u):
    d = float(gradient(x) @ u)
    assert abs(autograd.directional_derivative(f, x, u).item() - d) < 1e-10
    curvature = float(autograd.hvp(f, x, u)[1].data @ u)          # u^T H u
    assume(abs(curvature) > 1e-2)           # else the error falls as h^2, not h
    errors = np.array([abs((value(x + h * u) - value(x)) / h - d) for h in STEPS])
    # It agrees better and better as h shrinks, and the error falls linearly in h. Both are
    # read where the h^2 term no longer competes: at h = 1e-2 it can even cancel the h term.
    small = STEPS <= 1e-3
    assert errors[-1] < errors[small][0] / 50
    assert 0.9 < slope(STEPS[small], errors[small]) < 1.1
    # the leading error term is h/2 u^T H u (Taylor), a check of the slope's constant too
    np.testing.assert_allclose(errors[-1], STEPS[-1] / 2 * abs(curvature), rtol=0.05)


@given(x=points, direction=directions)
def test_the_remainder_is_little_o_of_the_step(x, direction):
    g = gradient(x)
    curvature = float(autograd.hvp(f, x, direction)[1].data @ direction)
    assume(abs(curvature) > 1e-2)                   # else the remainder is below rounding
    remainders = np.array([abs(value(x + h * direction) - value(x) - g @ (h * direction))
                           for h in STEPS])
    ratios = remainders / STEPS                     # |h| = h for a unit direction
    assert ratios[-1] < ratios[0] / 100 and ratios[-1] < 1e-3    # -> 0 with |h|
    # Smooth f: the remainder is h^2/2 u^T H u + O(h^3). At the larger steps the cubic term
    # can still compete when the curvature is small, so the order and constant are read off
    # the smaller ones.
    small = STEPS <= 1e-3
    assert 1.9 < slope(STEPS[small], remainders[small]) < 2.1
    np.testing.assert_allclose(remainders[-1], STEPS[-1] ** 2 / 2 * abs(curvature), rtol=0.05)


@given(x=points, direction=directions, wrong=directions, size=st.floats(1e-2, 1.0))
def test_no_other_vector_gives_a_little_o_remainder(x, direction, wrong, size):
    other = gradient(x) + size * wrong              # any vector but the gradient...
    offset = abs(size * float(wrong @ direction))
    assume(offset > 1e-3)
    ratios = np.array([abs(value(x + h * direction) - value(x) - other @ (h * direction)) / h
                       for h in STEPS])
    # ...leaves a remainder / |h| that tends to |(other - grad) . direction|, not 0
    np.testing.assert_allclose(ratios[-1], offset, rtol=0.05, atol=1e-3)


@given(x=points, seed=st.integers(0, 2 ** 32 - 1))
def test_the_gradient_is_the_direction_of_steepest_ascent(x, seed):
    g = gradient(x)
    h = 1e-5

    def rate(u):                                    # central difference, error O(h^2)
        return (value(x + h * u) - value(x - h * u)) / (2 * h)

    steepest = rate(unit(g))
    assert abs(steepest - np.linalg.norm(g)) < 1e-6          # the rate along grad is |grad|
    rng = np.random.default_rng(seed)
    for u in rng.standard_normal((100, N)):
        assert rate(unit(u)) <= steepest + 1e-6               # and no direction beats it
    assert abs(rate(-unit(g)) + steepest) < 1e-6             # and -grad is steepest descent
