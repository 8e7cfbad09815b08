"""`gradspace demo`: differentiate something and print it.

micrograd's classic expression, then the guide's first statement: the gradient is the vector
whose dot product with a direction u gives the rate of change of f along u.
"""
import numpy as np

import gradspace.autograd as ag
from gradspace.autograd import Tensor


def main():
    a, b, c = (Tensor(v, requires_grad=True, name=n) for v, n in ((2.0, "a"), (-3.0, "b"),
                                                                 (10.0, "c")))
    f = Tensor(-2.0, requires_grad=True, name="f")
    L = (a * b + c) * f
    L.backward()
    print(f"L = (a*b + c) * f = {L.item():g}")
    for t in (a, b, c, f):
        print(f"  dL/d{t.name} = {t.grad.item():g}")

    def g(x):
        return (x * x).sum() + x.sin().sum()

    x = np.array([0.5, -1.0, 2.0])
    u = np.array([2.0, 1.0, -2.0]) / 3.0
    grad = ag.grad(g)(x).numpy()
    slope = ag.directional_derivative(g, x, u).item()
    print(f"\ng(x) = |x|^2 + sum(sin x) at x = {x}")
    print(f"  grad g(x)           = {np.round(grad, 4)}")
    print(f"  grad g(x) . u       = {grad @ u:.6f}")
    print(f"  D_u g(x) (jvp)      = {slope:.6f}")
    for h in (1e-1, 1e-2, 1e-3):
        quotient = (g(Tensor(x + h * u)).item() - g(Tensor(x)).item()) / h
        print(f"  (g(x+hu) - g(x))/h  = {quotient:.6f}   (h = {h:g})")


if __name__ == "__main__":
    main()
