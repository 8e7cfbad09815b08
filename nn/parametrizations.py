"""Ready reparameterizations psi for nn.parametrize: theta = psi(phi).

Each is a Module whose forward is psi and whose right_inverse gives a phi with psi(phi) = theta,
so registering one leaves the model's function unchanged. Their Jacobians, and so the gradients
the optimizer sees (J_psi^T grad_theta L), differ:

- Scale(c):   theta = c phi.           grad_phi = c grad_theta: plain gradient descent with lr
              in phi takes steps c^2 times as long in theta; same direction.
- Exp():      theta = exp(phi) > 0.    grad_phi = theta * grad_theta: steps proportional to the
              size of each entry (multiplicative updates); theta can never cross zero.
- WeightNorm: theta = g v / ||v||.     Magnitude g and direction v are separate parameters
              (original0 = g, original1 = v, as torch's weight_norm), learned at their own pace.
"""
import numpy as np

from gradspace.nn.module import Module


class Scale(Module):
    """theta = c * phi (c a fixed nonzero number); right_inverse: phi = theta / c."""

    def __init__(self, c):
        super().__init__()
        if c == 0:
            raise ValueError("Scale: c must be nonzero (theta = c * phi must be invertible)")
        self.c = float(c)

    def forward(self, phi):
        return phi * self.c

    def right_inverse(self, theta):
        return theta / self.c

    def extra_repr(self):
        return f"c={self.c:g}"


class Exp(Module):
    """theta = exp(phi), always positive; right_inverse: phi = log(theta), for theta > 0."""

    def forward(self, phi):
        return phi.exp()

    def right_inverse(self, theta):
        data = np.asarray(theta.data)
        if data.size and not (data > 0).all():
            bad = int((data <= 0).sum())
            raise ValueError(f"Exp: right_inverse needs every entry of theta > 0 (theta = "
                             f"exp(phi)), but {bad} of {data.size} are <= 0 (the smallest is "
                             f"{data.min():g})")
        return theta.log()


def _norm_except(v, dim):
    """||v|| over every dim but `dim` (over all of v when dim is None), kept for broadcasting."""
    dims = tuple(d for d in range(v.ndim) if dim is None or d != dim % v.ndim)
    return (v * v).sum(dims, keepdim=True).sqrt()


class WeightNorm(Module):
    """theta = g * v / ||v||, the norm taken over every dim but `dim` (all dims when None).

    Two parameters: g, the magnitude, of theta's shape with 1 in every dim but `dim` (for a
    Linear weight (out, in) and dim=0: (out, 1), one length per output unit), and v, the
    direction, of theta's shape. right_inverse(theta) = (||theta||, theta), so the function is
    unchanged; psi takes (g, v) in that order, as torch's weight_norm.
    """

    def __init__(self, dim=0):
        super().__init__()
        self.dim = dim

    def forward(self, g, v):
        return g * (v / _norm_except(v, self.dim))

    def right_inverse(self, theta):
        return _norm_except(theta, self.dim), theta

    def extra_repr(self):
        return f"dim={self.dim}"
