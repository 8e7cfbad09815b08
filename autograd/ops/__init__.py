"""The primitives, one family a file: each op's forward and derivative side by side, and the
Tensor methods that call it. Everything not here is a composition of these.

Directly above each `backward`, `formulas` states the local derivative as the chain rule,
one formula per input (None for an input that gets no gradient), in the forward's input names,
with `out` for the result and `dL/dout` for the gradient coming in:

    formulas = ("dL/da = dL/dout * b", "dL/db = dL/dout * a")

The drawings write each backward step out with them (autograd.viz.chain):
`dL/da = dL/de * b = (-2) * (-3) = 6`. The formula documents; `backward` computes.
"""
