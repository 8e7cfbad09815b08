"""Elementwise functions (exp, log, tanh, sigmoid, relu, ...), clamp, maximum/minimum, where and
casts; the arithmetic operators are in arithmetic.py. Inputs broadcast as in numpy; each
backward returns gradients of the broadcast shape and the engine sums them back to each
input's shape.

Subgradients at kinks (as PyTorch): relu'(0) = 0, |x|'(0) = 0, clamp passes the gradient at
its bounds, maximum/minimum split the gradient evenly between tied inputs.
"""
import numpy as np

from gradspace.autograd.forward_ad import total
from gradspace.autograd.function import Function


class Exp(Function):
    __slots__ = ()
    reads = {0: ("out",)}

    def forward(self, a):
        return np.exp(a)

    formulas = ("dL/da = dL/dout * out",)
    def backward(self, grad, out):
        return (grad * out,)                 # d(e^a)/da = e^a

    def jvp(self, out, da):
        return da * out


class Log(Function):
    __slots__ = ()
    reads = {0: (0,)}

    def forward(self, a):
        return np.log(a)

    formulas = ("dL/da = dL/dout / a",)
    def backward(self, grad, out):
        return (grad / self.inputs[0],)      # d(log a)/da = 1/a

    def jvp(self, out, da):
        return da / self.inputs[0]


class Sqrt(Function):
    __slots__ = ()
    reads = {0: ("out",)}

    def forward(self, a):
        return np.sqrt(a)

    formulas = ("dL/da = dL/dout / (2 * out)",)
    def backward(self, grad, out):
        return (grad * 0.5 / out,)           # d(sqrt a)/da = 1 / (2 sqrt a)

    def jvp(self, out, da):
        return da * 0.5 / out


class Tanh(Function):
    __slots__ = ()
    reads = {0: ("out",)}

    def forward(self, a):
        return np.tanh(a)

    formulas = ("dL/da = dL/dout * (1 - out^2)",)
    def backward(self, grad, out):
        return (TanhBackward.apply(grad, out),)     # grad (1 - tanh^2 a), as one node

    def jvp(self, out, da):
        return TanhBackward.apply(da, out)


class TanhBackward(Function):
    """grad (1 - t^2) for t = tanh a: tanh's backward as one primitive.

    Written with Tensor ops it took three nodes (t t, 1 - ., grad .) and two temporaries;
    as a primitive it is one node, computed in place. Its own backward, for create_graph:
    d/d grad = 1 - t^2 (this same op), d/dt = -2 t grad.
    """
    __slots__ = ()
    reads = {0: (1,), 1: (0, 1)}

    def forward(self, grad, t):
        slope = np.asarray(t * t)            # d(tanh a)/da = 1 - tanh^2 a, in place: one
        np.subtract(1, slope, out=slope)     # temporary array, not two
        return _times(slope, grad)

    formulas = ("dL/dgrad = dL/dout * (1 - t^2)", "dL/dt = -2 * dL/dout * grad * t")
    def backward(self, gg, out):
        grad, t = self.inputs
        need_grad, need_t = self.needs_input_grad
        return (TanhBackward.apply(gg, t) if need_grad else None,
                gg * grad * t * -2 if need_t else None)

    def jvp(self, out, dgrad, dt):
        grad, t = self.inputs
        return total(TanhBackward.apply(dgrad, t) if dgrad is not None else None,
                     dt * grad * t * -2 if dt is not None else None)


def _times(slope, grad):
    """grad * slope, written into `slope` (a fresh temporary) when it already has the result's
    shape and dtype: one large array fewer per backward."""
    if slope.shape == grad.shape and slope.dtype == grad.dtype:
        slope *= grad
        return slope
    return grad * slope


class Sigmoid(Function):
    __slots__ = ()
    reads = {0: ("out",)}

    def forward(self, a):
        # 1/(1 + e^-a) for a >= 0, e^a/(1 + e^a) below, with e = exp(-|a|) <= 1: no overflow,
        # and full relative precision in the tail (0.5 (1 + tanh(a/2)) rounds sigmoid(-20) to 0
        # in float32). max(e, a >= 0) is the numerator: 1 above zero, e below.
        e = np.exp(-np.abs(a))
        out = np.maximum(e, a >= 0)
        out /= 1 + e
        return out

    formulas = ("dL/da = dL/dout * out * (1 - out)",)
    def backward(self, grad, out):
        return (SigmoidBackward.apply(grad, out),)  # grad s (1 - s), as one node

    def jvp(self, out, da):
        return SigmoidBackward.apply(da, out)


class SigmoidBackward(Function):
    """grad s (1 - s) for s = sigmoid a: sigmoid's backward as one primitive (one node, not
    four). Its own backward: d/d grad = s (1 - s) (this same op), d/ds = grad (1 - 2 s)."""
    __slots__ = ()
    reads = {0: (1,), 1: (0, 1)}

    def forward(self, grad, s):
        slope = np.asarray(1 - s)            # d(s)/da = s (1 - s), in place
        slope *= s
        return _times(slope, grad)

    formulas = ("dL/dgrad = dL/dout * s * (1 - s)", "dL/ds = dL/dout * grad * (1 - 2 * s)")
    def backward(self, gg, out):
        grad, s = self.inputs
        need_grad, need_s = self.needs_input_grad
        return (SigmoidBackward.apply(gg, s) if need_grad else None,
                gg * grad * (1 - 2 * s) if need_s else None)

    def jvp(self, out, dgrad, ds):
        grad, s = self.inputs
        return total(SigmoidBackward.apply(dgrad, s) if dgrad is not None else None,
                     ds * grad * (1 - 2 * s) if ds is not None else None)


class Relu(Function):
    __slots__ = ()
    reads = {0: (0,)}

    def forward(self, a):
        return np.maximum(a, 0)

    formulas = ("dL/da = dL/dout * [a > 0]",)
    def backward(self, grad, out):
        return (grad * (self.inputs[0] > 0),)

    def jvp(self, out, da):
        return da * (self.inputs[0] > 0)


class Abs(Function):
    __slots__ = ()
    reads = {0: (0,)}

    def forward(self, a):
        return np.abs(a)

    formulas = ("dL/da = dL/dout * sign(a)",)
    def backward(self, grad, out):
        return (grad * self.inputs[0].sign(),)

    def jvp(self, out, da):
        return da * self.inputs[0].sign()


class Sin(Function):
    __slots__ = ()
    reads = {0: (0,)}

    def forward(self, a):
        return np.sin(a)

    formulas = ("dL/da = dL/dout * cos(a)",)
    def backward(self, grad, out):
        return (grad * self.inputs[0].cos(),)

    def jvp(self, out, da):
        return da * self.inputs[0].cos()


class Cos(Function):
    __slots__ = ()
    reads = {0: (0,)}

    def forward(self, a):
        return np.cos(a)

    formulas = ("dL/da = -dL/dout * sin(a)",)
    def backward(self, grad, out):
        return (-grad * self.inputs[0].sin(),)

    def jvp(self, out, da):
        return -da * self.inputs[0].sin()


class Clamp(Function):
    __slots__ = ("low", "high")
    saved = ("low", "high")                 # numbers, or arrays of bounds
    reads = {0: (0,)}

    def forward(self, a, low=None, high=None):
        self.low, self.high = low, high
        return np.clip(a, low, high)

    formulas = ("dL/da = dL/dout * [low <= a <= high]",)
    def backward(self, grad, out):
        a = self.inputs[0]
        if self.low is not None:
            grad = grad * (a >= self.low)
        if self.high is not None:
            grad = grad * (a <= self.high)
        return (grad,)

    def jvp(self, out, da):
        return self.backward(da, out)[0]     # the same masks: the Jacobian is diagonal


class Maximum(Function):
    __slots__ = ()
    reads = {0: (0, 1), 1: (0, 1)}

    def forward(self, a, b):
        return np.maximum(a, b)

    formulas = ("dL/da = dL/dout * ([a > b] + [a == b] / 2)",
                "dL/db = dL/dout * ([b > a] + [a == b] / 2)")
    def backward(self, grad, out):
        a, b = self.inputs
        tie = grad * (a == b) * 0.5
        return grad * (a > b) + tie, grad * (a < b) + tie

    def jvp(self, out, da, db):
        a, b = self.inputs
        tie = (a == b) * 0.5
        return total(da * ((a > b) + tie) if da is not None else None,
                     db * ((a < b) + tie) if db is not None else None)


class Minimum(Function):
    __slots__ = ()
    reads = {0: (0, 1), 1: (0, 1)}

    def forward(self, a, b):
        return np.minimum(a, b)

    formulas = ("dL/da = dL/dout * ([a < b] + [a == b] / 2)",
                "dL/db = dL/dout * ([b < a] + [a == b] / 2)")
    def backward(self, grad, out):
        a, b = self.inputs
        tie = grad * (a == b) * 0.5
        return grad * (a < b) + tie, grad * (a > b) + tie

    def jvp(self, out, da, db):
        a, b = self.inputs
        tie = (a == b) * 0.5
        return total(da * ((a < b) + tie) if da is not None else None,
                     db * ((a > b) + tie) if db is not None else None)


class Where(Function):
    __slots__ = ()
    reads = {1: (0,), 2: (0,)}

    def forward(self, condition, a, b):
        return np.where(condition, a, b)

    formulas = (None, "dL/da = dL/dout * [cond]", "dL/db = dL/dout * [not cond]")
    def backward(self, grad, out):
        condition = self.inputs[0]
        return None, grad * condition, grad * ~condition

    def jvp(self, out, dcondition, da, db):
        condition = self.inputs[0]
        return total(da * condition if da is not None else None,
                     db * ~condition if db is not None else None)


class Cast(Function):
    __slots__ = ()
    reads = {}

    def forward(self, a, dtype=None):
        return a.astype(dtype)

    formulas = ("dL/da = dL/dout",)
    def backward(self, grad, out):
        return (grad,)                       # the engine casts it back to the input's dtype

    def jvp(self, out, da):
        return da.to(out.dtype)


class ElementwiseMethods:
    """The Tensor methods of this family (mixed into Tensor)."""
    __slots__ = ()

    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def sqrt(self):
        return Sqrt.apply(self)

    def tanh(self):
        return Tanh.apply(self)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def relu(self):
        return Relu.apply(self)

    def abs(self):
        return Abs.apply(self)

    def sin(self):
        return Sin.apply(self)

    def cos(self):
        return Cos.apply(self)

    def clamp(self, min=None, max=None):
        """Limit values to [min, max]; the gradient passes where min <= x <= max."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return Clamp.apply(self, low=min, high=max)

    def maximum(self, other):
        return Maximum.apply(self, self._lift(other))

    def minimum(self, other):
        return Minimum.apply(self, self._lift(other))

    def to(self, dtype):
        """This tensor in another dtype: differentiable between float dtypes; a cast to an
        integer or bool dtype leaves the graph (its result never requires grad), as in PyTorch.
        """
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if dtype.kind != "f":
            return self._constant(self.data.astype(dtype))
        return Cast.apply(self, dtype=dtype)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    # Comparisons and logic: results are bool tensors outside the graph.
    def __lt__(self, other):
        return self._constant(self.data < self._lift(other).data)

    def __le__(self, other):
        return self._constant(self.data <= self._lift(other).data)

    def __gt__(self, other):
        return self._constant(self.data > self._lift(other).data)

    def __ge__(self, other):
        return self._constant(self.data >= self._lift(other).data)

    def __eq__(self, other):
        return self._constant(self.data == self._lift(other).data)

    def __ne__(self, other):
        return self._constant(self.data != self._lift(other).data)

    def __and__(self, other):
        return self._constant(self.data & self._lift(other).data)

    def __or__(self, other):
        return self._constant(self.data | self._lift(other).data)

    def __invert__(self):
        return self._constant(~self.data)

    def sign(self):
        """-1, 0 or 1 elementwise; no gradient (its derivative is 0 almost everywhere)."""
        return self._constant(np.sign(self.data))
