"""The chain rule in numbers: every primitive states its local derivative above its backward,
and each backward step is written out as `dL/da = dL/de * b = (-2) * (-3) = 6`."""
import inspect
import re

import numpy as np
import pytest
from viz_helpers import micrograd

from gradspace import nn
from gradspace.autograd import Function, Tensor, viz
from gradspace.autograd.ops import arithmetic, elementwise, indexing, linalg, reductions, shape
from gradspace.autograd.viz.chain import LHS
from gradspace.nn import fused

FAMILIES = (arithmetic, elementwise, indexing, linalg, reductions, shape, fused)
PRIMITIVES = [cls for module in FAMILIES
              for _, cls in inspect.getmembers(module, inspect.isclass)
              if issubclass(cls, Function) and cls is not Function
              and cls.__module__ == module.__name__ and "backward" in cls.__dict__]


def test_micrograd_s_step_of_a_says_the_formula_and_its_numbers():
    L = micrograd()["L"]
    captions = [f.caption for f in viz.backward_frames(L)]
    mul = next(c for c in captions if "e = Mul(a, b)" in c)
    own = next(c for c in captions if c.split("\n")[0].endswith("a is a leaf: its gradient "
                                                                  "is complete"))
    expected = "dL/da = dL/de * b = (-2) * (-3) = 6"
    assert expected in mul.split("\n") and expected in own.split("\n")
    assert "dL/db = dL/de * a = (-2) * 2 = -4" in mul.split("\n")
    # the same words in the drawing's title and in the HTML player's caption
    k = captions.index(mul)
    title = re.search(r'label="(backward step[^"]*)"', viz.draw_backward(L, step=k).source)
    assert expected in title.group(1).split("\\n")
    assert expected in viz.player_html(L)


def test_the_numbers_are_the_engine_s_and_large_tensors_give_shapes_and_norms():
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    x = Tensor(np.array([[0.5, -1.0]], np.float32), name="x")
    loss = ((model(x) - 1.0) ** 2).mean()
    captions = [f.caption for f in viz.backward_frames(loss, params=model)]
    loss.backward()
    w = model[0].weight.grad.data.astype(np.float64)
    line = next(x for c in captions for x in c.split("\n") if x.startswith("dL/d0.weight ="))
    # (4, 2) has more than 6 elements: shapes, and the norm of what the engine computed
    assert line.endswith(f"= (1, 4)^T @ (1, 2) = (4, 2), norm {np.sqrt((w * w).sum()):.4g}")
    bias = next(x for c in captions for x in c.split("\n") if x.startswith("dL/d2.bias ="))
    b = model[2].bias.grad.data
    assert bias.endswith(f", summed to (1,): [{b[0]:.4g}]")        # broadcast, undone


def test_every_primitive_states_one_formula_per_input_directly_above_backward():
    assert len(PRIMITIVES) >= 30
    for cls in PRIMITIVES:
        formulas = cls.__dict__.get("formulas")
        assert isinstance(formulas, tuple) and formulas, cls.__name__
        inputs = [p for p in inspect.signature(cls.forward).parameters.values()
                  if p.name != "self" and p.default is inspect.Parameter.empty]
        variadic = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in inputs)
        assert len(formulas) == (1 if variadic else len(inputs)), cls.__name__
        for f, p in zip(formulas, inputs):
            if f is None:
                continue
            m = LHS.match(f)
            assert m, (cls.__name__, f)
            assert variadic or m.group(1) == p.name, (cls.__name__, f, p.name)
        source = inspect.getsource(cls).split("\n")
        at = next(i for i, line in enumerate(source) if line.startswith("    def backward("))
        above = at - 1
        while not source[above].startswith("    formulas = ("):
            assert source[above].startswith(" " * 16), (cls.__name__, source[above])
            above -= 1


# Formulas evaluated as numpy expressions on scalars, against the engine's own gradients:
# a formula that does not say what backward computes fails here.
NAMESPACE = {"log": np.log, "cos": np.cos, "sin": np.sin, "sign": np.sign,
             "sigmoid": lambda v: 1 / (1 + np.exp(-v))}


def evaluate(rhs, values):
    expr = rhs.replace("dL/dout", "incoming").replace("^T", ".T").replace("^", "**")
    expr = expr.replace("[not cond]", "(1 - cond)").replace("[", "(").replace("]", ")")
    return eval(expr, {**NAMESPACE}, values)       # noqa: S307 (our own formulas)


CASES = [  # (primitive, how to call it on inputs named as in the formulas, the inputs)
    (arithmetic.Add, lambda a, b: a + b, (1.5, -2.0)),
    (arithmetic.Sub, lambda a, b: a - b, (1.5, -2.0)),
    (arithmetic.Mul, lambda a, b: a * b, (1.5, -2.0)),
    (arithmetic.Div, lambda a, b: a / b, (1.5, -2.0)),
    (arithmetic.Pow, lambda a, p: a ** p, (1.5, 2.5)),
    (arithmetic.Neg, lambda a: -a, (1.5,)),
    (elementwise.Exp, lambda a: a.exp(), (0.3,)),
    (elementwise.Log, lambda a: a.log(), (1.5,)),
    (elementwise.Sqrt, lambda a: a.sqrt(), (1.5,)),
    (elementwise.Tanh, lambda a: a.tanh(), (0.3,)),
    (elementwise.Sigmoid, lambda a: a.sigmoid(), (0.3,)),
    (elementwise.Relu, lambda a: a.relu(), (0.3,)),
    (elementwise.Abs, lambda a: a.abs(), (-0.3,)),
    (elementwise.Sin, lambda a: a.sin(), (0.3,)),
    (elementwise.Cos, lambda a: a.cos(), (0.3,)),
    (elementwise.Maximum, lambda a, b: a.maximum(b), (0.3, 0.7)),
    (elementwise.Minimum, lambda a, b: a.minimum(b), (0.3, 0.7)),
    (fused.LogSigmoid, lambda x: nn.functional.logsigmoid(x), (0.3,)),
    (linalg.MatMul, lambda a, b: a @ b, (np.ones((2, 3)) * 0.5, np.arange(6.0).reshape(3, 2))),
    (fused.Linear, lambda x, weight, bias: nn.functional.linear(x, weight, bias),
     (np.ones((2, 3)) * 0.5, np.arange(12.0).reshape(4, 3), np.ones((2, 4)))),
]


@pytest.mark.parametrize("cls, call, values", CASES, ids=[c[0].__name__ for c in CASES])
def test_each_formula_computes_what_backward_computes(cls, call, values):
    inputs = [Tensor(np.asarray(v, np.float64), requires_grad=True) for v in values]
    out = call(*inputs)
    assert type(out.grad_fn) is cls
    grad = np.full(out.shape, 0.7)
    out.backward(Tensor(grad))
    names = [LHS.match(f).group(1) for f in cls.formulas]
    scope = {"incoming": grad, "out": out.data, **{n: t.data for n, t in zip(names, inputs)}}
    for f, t in zip(cls.formulas, inputs):
        expected = evaluate(LHS.match(f).group(2), scope)
        np.testing.assert_allclose(np.broadcast_to(expected, t.shape), t.grad.data,
                                   err_msg=f)


def test_a_formula_that_lies_is_caught():
    scope = {"incoming": 0.7, "a": 1.5, "b": -2.0}
    assert evaluate("dL/dout * b", scope) == pytest.approx(-1.4)
    assert evaluate("dL/dout * a", scope) != pytest.approx(-1.4)


def test_a_step_without_formula_still_shows_its_numbers():
    class Twice(Function):                        # a user's primitive with no formulas
        __slots__ = ()

        def forward(self, a):
            return 2 * a

        def backward(self, grad, out):
            return (grad * 2,)

    a = Tensor(1.5, requires_grad=True, name="a")
    y = Twice.apply(a)
    captions = [f.caption for f in viz.backward_frames(y)]
    assert "dL/da = 2" in captions[1].split("\n")
