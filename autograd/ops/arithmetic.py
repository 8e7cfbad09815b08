"""Arithmetic primitives: + - * / ** and negation, the operators of a Tensor. Inputs broadcast
as in numpy; each backward returns gradients of the broadcast shape and the engine sums them
back to each input's shape (the one place broadcasting is undone).

Powers at 0 follow PyTorch: d(x**0)/dx = 0 at x = 0, and d(0**p)/dp = 0.
"""
import numpy as np

from gradspace.autograd.forward_ad import total
from gradspace.autograd.function import Function
from gradspace.autograd.ops.elementwise import Where


class Add(Function):
    __slots__ = ()
    reads = {}

    def forward(self, a, b):
        return a + b

    formulas = ("dL/da = dL/dout", "dL/db = dL/dout")
    def backward(self, grad, out):
        return grad, grad

    def jvp(self, out, da, db):
        return total(da, db)


class Sub(Function):
    __slots__ = ()
    reads = {}

    def forward(self, a, b):
        return a - b

    formulas = ("dL/da = dL/dout", "dL/db = -dL/dout")
    def backward(self, grad, out):
        return grad, -grad

    def jvp(self, out, da, db):
        return total(da, -db if db is not None else None)


class Mul(Function):
    __slots__ = ()
    reads = {0: (1,), 1: (0,)}

    def forward(self, a, b):
        return a * b

    formulas = ("dL/da = dL/dout * b", "dL/db = dL/dout * a")
    def backward(self, grad, out):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (grad * b if need_a else None,
                grad * a if need_b else None)

    def jvp(self, out, da, db):
        a, b = self.inputs
        return total(da * b if da is not None else None, a * db if db is not None else None)


class Div(Function):
    __slots__ = ()
    reads = {0: (1,), 1: (1, "out")}

    def forward(self, a, b):
        return a / b

    formulas = ("dL/da = dL/dout / b", "dL/db = -dL/dout * a / b^2")
    def backward(self, grad, out):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (grad / b if need_a else None,           # d(a/b)/da = 1/b
                -grad * out / b if need_b else None)    # d(a/b)/db = -a/b^2

    def jvp(self, out, da, db):
        a, b = self.inputs
        return total(da / b if da is not None else None,
                     -db * out / b if db is not None else None)


class Pow(Function):
    __slots__ = ()
    reads = {0: (0, 1), 1: (0, "out")}

    def forward(self, a, p):
        return a ** p

    formulas = ("dL/da = dL/dout * p * a^(p - 1)", "dL/dp = dL/dout * out * log(a)")
    def backward(self, grad, out):
        a, p = self.inputs
        need_a, need_p = self.needs_input_grad
        return (grad * d_base(a, p) if need_a else None,
                grad * d_exponent(a, p, out) if need_p else None)

    def jvp(self, out, da, dp):
        a, p = self.inputs
        return total(da * d_base(a, p) if da is not None else None,
                     dp * d_exponent(a, p, out) if dp is not None else None)


# As PyTorch, at a = 0: d(a^0)/da is 0 (a^0 = 1 everywhere; p a^(p-1) would be 0 * inf), and
# d(a^p)/dp is 0 for p >= 0 (a^p log a -> 0). Only those points are masked, so higher
# derivatives elsewhere are untouched; reverse and forward mode share the two slopes.
def d_base(a, p):
    """d(a^p)/da = p a^(p-1)."""
    if p.data.all() or a.data.all():
        return p * a ** (p - 1)
    with np.errstate(divide="ignore", invalid="ignore"):      # 0 ** -1: masked just below
        slope = p * a ** (p - 1)
    return Where.apply((p == 0) & (a == 0), slope._lift(0.0), slope)


def d_exponent(a, p, out):
    """d(a^p)/dp = a^p log a, with out = a^p."""
    if a.data.all():
        return out * a.log()
    with np.errstate(divide="ignore", invalid="ignore"):      # log 0: masked just below
        slope = out * a.log()
    return Where.apply((a == 0) & (p >= 0), slope._lift(0.0), slope)


class Neg(Function):
    __slots__ = ()
    reads = {}

    def forward(self, a):
        return -a

    formulas = ("dL/da = -dL/dout",)
    def backward(self, grad, out):
        return (-grad,)

    def jvp(self, out, da):
        return -da


class ArithmeticMethods:
    """The Tensor operators of this family (mixed into Tensor); a number or array on either
    side is lifted to a constant Tensor first."""
    __slots__ = ()

    def __add__(self, other):
        return Add.apply(self, self._lift(other))

    def __radd__(self, other):
        return Add.apply(self._lift(other), self)

    def __sub__(self, other):
        return Sub.apply(self, self._lift(other))

    def __rsub__(self, other):
        return Sub.apply(self._lift(other), self)

    def __mul__(self, other):
        return Mul.apply(self, self._lift(other))

    def __rmul__(self, other):
        return Mul.apply(self._lift(other), self)

    def __truediv__(self, other):
        return Div.apply(self, self._lift(other))

    def __rtruediv__(self, other):
        return Div.apply(self._lift(other), self)

    def __pow__(self, exponent):
        return Pow.apply(self, self._lift(exponent))

    def __rpow__(self, base):
        return Pow.apply(self._lift(base), self)

    def __neg__(self):
        return Neg.apply(self)
