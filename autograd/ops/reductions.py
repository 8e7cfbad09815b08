"""Reductions. Sum, max and min are primitives; mean, var, logsumexp, softmax and log_softmax
are compositions of them and have no backward of their own.

`dim` is None (every axis), an int, or a tuple of ints; negative values count from the end.
"""
import math

import numpy as np

from gradspace.autograd.function import Function
from gradspace.autograd.ops.arguments import kept_shape, normalize_dims, shape_arg


class Sum(Function):
    __slots__ = ("dims", "keepdim")
    reads = {}

    def forward(self, a, dims=(), keepdim=False):
        self.dims, self.keepdim = dims, keepdim
        return a.sum(axis=dims, keepdims=keepdim)

    formulas = ("dL/da = expand(dL/dout)",)
    def backward(self, grad, out):
        shape = self.inputs[0].shape
        if not self.keepdim:
            grad = grad.reshape(kept_shape(shape, self.dims))
        return (grad.expand(*shape),)       # every summand receives the whole gradient

    def jvp(self, out, da):
        return Sum.apply(da, dims=self.dims, keepdim=self.keepdim)     # linear: the sum itself


class SumTo(Function):
    """Sum a broadcast array back down to `shape`: the adjoint of broadcasting."""
    __slots__ = ("shape",)
    reads = {}

    def forward(self, a, shape=()):
        self.shape = a.shape
        lead = a.ndim - len(shape)
        dims = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
        return a.sum(axis=dims, keepdims=True).reshape(shape) if dims else a.reshape(shape)

    formulas = ("dL/da = expand(dL/dout)",)
    def backward(self, grad, out):
        return (grad.expand(*self.shape),)

    def jvp(self, out, da):
        return SumTo.apply(da, shape=out.shape)


class Extremum(Function):
    """max or min over dims; tied elements share the gradient evenly, and so do the NaNs
    when the result is NaN."""
    __slots__ = ("dims", "keepdim")
    reads = {0: (0, "out")}
    reduce = None

    def forward(self, a, dims=(), keepdim=False):
        if a.size == 0:
            raise ValueError("cannot reduce an empty tensor")     # apply() names the op
        self.dims, self.keepdim = dims, keepdim
        return self.reduce(a, axis=dims, keepdims=keepdim)

    formulas = ("dL/da = dL/dout * [a == out] / count(a == out)",)
    def backward(self, grad, out):
        a = self.inputs[0]
        if not self.keepdim:
            kept = kept_shape(a.shape, self.dims)
            grad, out = grad.reshape(kept), out.reshape(kept)
        hit = a.data == out.data
        if np.isnan(out.data).any():        # NaN is the max/min: the NaNs share the gradient,
            hit |= np.isnan(a.data) & np.isnan(out.data)      # as in PyTorch
        winners = grad._constant(hit.astype(grad.dtype))
        return (grad * winners / winners.sum(self.dims, keepdim=True),)

    def jvp(self, out, da):
        # the mean of the tangents of the tied winners (the transpose of backward's even split)
        a = self.inputs[0]
        kept = out if self.keepdim else out.reshape(kept_shape(a.shape, self.dims))
        winners = (a == kept.detach()).to(da.dtype)
        return (Sum.apply(da * winners, dims=self.dims, keepdim=self.keepdim)
                / Sum.apply(winners, dims=self.dims, keepdim=self.keepdim))


class Max(Extremum):
    __slots__ = ()
    reduce = staticmethod(np.max)


class Min(Extremum):
    __slots__ = ()
    reduce = staticmethod(np.min)


class ReductionMethods:
    """The Tensor methods of this family (mixed into Tensor)."""
    __slots__ = ()

    def sum(self, dim=None, keepdim=False):
        return Sum.apply(self, dims=normalize_dims(dim, self.ndim, "sum"), keepdim=keepdim)

    def sum_to_size(self, *shape):
        """Sum over broadcast dimensions so the result has `shape` (the adjoint of expand)."""
        shape = shape_arg(shape)
        if shape == self.shape:
            return self
        lead = self.ndim - len(shape)           # shape broadcasts to ours: each dim 1 or equal
        if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, self.shape[lead:])):
            raise ValueError(f"sum_to_size: shape {self.shape} does not broadcast from {shape}")
        return SumTo.apply(self, shape=shape)

    def mean(self, dim=None, keepdim=False):
        dims = normalize_dims(dim, self.ndim, "mean")
        count = math.prod([self.shape[d] for d in dims])
        return self.sum(dims, keepdim) / count

    def var(self, dim=None, keepdim=False, correction=1):
        """Variance: sum((x - mean)^2) / (n - correction); correction=1 is the unbiased one."""
        dims = normalize_dims(dim, self.ndim, "var")
        count = math.prod([self.shape[d] for d in dims])
        centered = self - self.mean(dims, keepdim=True)
        return (centered * centered).sum(dims, keepdim) / max(count - correction, 0)

    def max(self, dim=None, keepdim=False):
        """Largest values over dim (values only); ties share the gradient evenly."""
        return Max.apply(self, dims=normalize_dims(dim, self.ndim, "max"), keepdim=keepdim)

    def min(self, dim=None, keepdim=False):
        """Smallest values over dim (values only); ties share the gradient evenly."""
        return Min.apply(self, dims=normalize_dims(dim, self.ndim, "min"), keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False):
        """Index of the largest value (over the flattened tensor when dim is None); no gradient."""
        if dim is None:
            return self._constant(np.asarray(np.argmax(self.data)))
        (axis,) = normalize_dims(dim, self.ndim, "argmax")
        return self._constant(np.argmax(self.data, axis=axis, keepdims=keepdim))

    def argmin(self, dim=None, keepdim=False):
        if dim is None:
            return self._constant(np.asarray(np.argmin(self.data)))
        (axis,) = normalize_dims(dim, self.ndim, "argmin")
        return self._constant(np.argmin(self.data, axis=axis, keepdims=keepdim))

    def logsumexp(self, dim=None, keepdim=False):
        """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m = max(x): never overflows.

        m is a constant (detached) shift: the value and every derivative are unchanged by it.
        """
        dims = normalize_dims(dim, self.ndim, "logsumexp")
        shifted, shift = self._shifted(dims)
        total = shifted.exp().sum(dims, keepdim=True).log() + shift
        return total if keepdim else total.squeeze(dims)

    def softmax(self, dim=-1):
        """exp(x_i) / sum_j exp(x_j) along dim; unchanged by adding a constant to x."""
        dims = normalize_dims(dim, self.ndim, "softmax")       # errors name softmax
        return self.log_softmax(dims).exp()

    def log_softmax(self, dim=-1):
        """x_i - logsumexp(x) along dim: log-probabilities without computing exp(x) itself.

        Computed as (x - m) - log(sum(exp(x - m))), m = max(x), never adding m back: in float32
        m + log(...) rounds to m's precision (at logits of 1e4 the probabilities summed to
        1.0004, at 1e6 to 1.027), and subtracting it from x again does not undo the rounding.
        """
        dims = normalize_dims(dim, self.ndim, "log_softmax")
        shifted, _ = self._shifted(dims)
        return shifted - shifted.exp().sum(dims, keepdim=True).log()

    def _shifted(self, dims):
        """(x - m, m) for m = max(x) over dims, a constant: rows of -inf stay -inf."""
        peak = np.max(self.data, axis=dims, keepdims=True)
        shift = self._constant(np.where(np.isfinite(peak), peak, 0))
        return self - shift, shift
