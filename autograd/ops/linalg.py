"""Matrix multiplication, with numpy's rules for 1-d operands and batch broadcasting."""
import numpy as np

from gradspace.autograd.forward_ad import total
from gradspace.autograd.function import Function


class MatMul(Function):
    __slots__ = ()
    reads = {0: (1,), 1: (0,)}

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("both operands must have at least 1 dim (use * for scalars)")
        if a.ndim > 1 and b.ndim > 1 and a.shape[-1] == 1 and b.shape[-2] == 1:
            # (..., n, 1) @ (..., 1, m): each entry is one product, so these are outer products,
            # the same numbers as a broadcast multiply, which numpy runs faster than a stack of
            # small matmuls (the figures are in the commit that made it so, 02db808).
            return a * b
        return np.matmul(a, b)

    formulas = ("dL/da = dL/dout @ b^T", "dL/db = a^T @ dL/dout")
    def backward(self, grad, out):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:                     # dot product: out = a . b
            return (grad * b if need_a else None, grad * a if need_b else None)
        if a.ndim == 1:                                     # (n) @ (..., n, m) -> (..., m)
            g = grad.unsqueeze(-2)
            return ((g @ b.mT).squeeze(-2) if need_a else None,
                    a.unsqueeze(-1) @ g if need_b else None)
        if b.ndim == 1:                                     # (..., n, m) @ (m) -> (..., n)
            g = grad.unsqueeze(-1)
            return (g @ b.unsqueeze(-2) if need_a else None,
                    (a.mT @ g).squeeze(-1) if need_b else None)
        if need_b and _is_transposed(b.data):
            # dL/dB = A^T G = (G^T A)^T: computed in B's own layout, so that the gradient of a
            # transposed weight (Linear's x @ W.T) comes back to W contiguous, as W is.
            grad_b = (grad.mT @ a).mT
        else:
            grad_b = a.mT @ grad if need_b else None        # dL/dB = A^T G
        return (grad @ b.mT if need_a else None,            # dL/dA = G B^T
                grad_b)

    def jvp(self, out, da, db):
        a, b = self.inputs
        return total(da @ b if da is not None else None,
                     a @ db if db is not None else None)


def _is_transposed(array):
    """A 2-d array laid out column by column: the transpose of a contiguous matrix."""
    flags = array.flags
    return array.ndim == 2 and flags.f_contiguous and not flags.c_contiguous


class LinalgMethods:
    """The Tensor methods of this family (mixed into Tensor)."""
    __slots__ = ()

    def __matmul__(self, other):
        return MatMul.apply(self, self._lift(other))

    def __rmatmul__(self, other):
        return MatMul.apply(self._lift(other), self)

    def matmul(self, other):
        return self @ other

    def dot(self, other):
        """Inner product of two 1-d tensors."""
        if self.ndim != 1 or self._lift(other).ndim != 1:
            raise ValueError(f"dot: expects two 1-d tensors, got shapes {self.shape} and "
                             f"{self._lift(other).shape}")
        return self @ other
