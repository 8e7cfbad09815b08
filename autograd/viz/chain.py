"""The chain rule in numbers: each backward step written out as its formula, then its numbers.

Every primitive states its local derivative beside its backward (`formulas`, see
autograd.ops): `dL/da = dL/dout * b`. Here the symbols are replaced by the tensors of the step,
and the values by what the engine computed:

    dL/da = dL/de * b = (-2) * (-3) = 6

A tensor is called by its name, else by its backward step number (`#5`, as its node is
labelled), and a number written in the code by its value. When every tensor in the formula
has at most style.SMALL elements the numbers are written out; otherwise their shapes, and the
result's shape and norm: `dL/dW = dL/dh^T @ x = (4, 10)^T @ (4, 6) = (10, 6), norm 0.83`.
The result is always the engine's own (BackwardStep.raw_input_grads), never re-evaluated from
the formula: the formula documents, the engine computes. Where the engine then summed a
broadcast gradient back to the input's shape, that is said too.
"""
import re

import numpy as np

from gradspace.autograd.viz import style

LHS = re.compile(r"^dL/d(\w+) = (.*)$")


def name_of(node, numbers):
    """How a formula calls a TensorNode: its name, a number's value, else '#<step>'."""
    if node.name:
        return node.name
    if node.role == "number":
        return style.number(node.tensor.data.item())
    if node.key in numbers:
        return f"#{numbers[node.key]}"
    return f"[{style.shape_text(node.tensor.shape)}]"


def formula_lines(op, step, numbers):
    """One line per input that received a gradient in `step` (the BackwardStep of op's output):
    `dL/da = dL/de * b = (-2) * (-3) = 6`."""
    formulas = getattr(op.fn, "formulas", None) or ()
    symbols = {}                                   # symbol of the formulas -> input index
    for i in range(len(op.inputs)):
        f = formulas[min(i, len(formulas) - 1)] if formulas else None
        m = LHS.match(f) if f else None
        if m:
            symbols.setdefault(m.group(1), i)
    lines = []
    for i, (raw, got) in enumerate(zip(step.raw_input_grads, step.input_grads)):
        if got is None:
            continue
        f = formulas[min(i, len(formulas) - 1)] if formulas else None
        m = LHS.match(f) if f else None
        own = {m.group(1): i} if m else {}
        lines.append(_line(op, step, i, m.group(2) if m else None, {**symbols, **own},
                           numbers, raw, got))
    return lines


def _line(op, step, i, rhs, symbols, numbers, raw, got):
    inp = op.inputs[i]
    lhs = f"dL/d{name_of(inp, numbers)}"
    if rhs is None:                                # a primitive without a stated formula
        return f"{lhs} = {_value(got)}"
    out_name = name_of(op.output, numbers)
    arrays = {"dL/dout": step.grad, "out": op.output.tensor.data}
    names = {"dL/dout": f"dL/d{out_name}", "out": out_name}
    for symbol, j in symbols.items():
        arrays[symbol] = op.inputs[j].tensor.data
        names[symbol] = name_of(op.inputs[j], numbers)
    words = sorted(names, key=len, reverse=True)
    pattern = re.compile("|".join(r"(?<![\w/])" + re.escape(w) + r"(?!\w)" for w in words))
    used = {m.group(0) for m in pattern.finditer(rhs)}
    text = pattern.sub(lambda m: names[m.group(0)], rhs)
    small = all(np.asarray(arrays[w]).size <= style.SMALL for w in used) \
        and np.asarray(raw).size <= style.SMALL
    if small:
        numbers_text = pattern.sub(lambda m: _value(arrays[m.group(0)], wrap=True), rhs)
        result = _value(raw)
    else:
        numbers_text = pattern.sub(lambda m: style.shape_text(np.shape(arrays[m.group(0)])), rhs)
        result = f"{style.shape_text(np.shape(raw))}, norm {_norm(raw)}"
    if pattern.fullmatch(rhs):                     # dL/de = dL/dd: one value, said once
        line = f"{lhs} = {text} = {result}"
    else:
        line = f"{lhs} = {text} = {numbers_text} = {result}"
    if np.shape(raw) != np.shape(got):
        line += f", summed to {style.shape_text(np.shape(got))}: {style.brief(got)}"
    return line


def _value(a, wrap=False):
    """A small array's values; a negative number in parentheses inside a formula: (-2)."""
    text = style.values(np.asarray(a))
    return f"({text})" if wrap and text.startswith("-") else text


def _norm(a):
    f = np.asarray(a, dtype=np.float64)
    return style.number(np.sqrt(np.sum(f * f)))


def step_caption(graph, steps, k):
    """`backward step 4 of 7: e = Mul(a, b) sent gradients to a, b`, then one line per input
    with its formula and numbers; a tensor's own step says how its gradient was summed."""
    if k == 0:
        return f"backward step 0 of {len(steps)}: the forward graph, no gradient yet"
    numbers = {graph.node_of(s.tensor).key: s.step for s in steps}
    s = steps[k - 1]
    node = graph.node_of(s.tensor)
    who = name_of(node, numbers)
    head = f"backward step {k} of {len(steps)}: "
    if node.op is None:
        return head + f"{who} is a leaf: its gradient is complete" + _arrivals(
            graph, steps, node, numbers)
    args = ", ".join(name_of(i, numbers) for i in node.op.inputs)
    to = ", ".join(name_of(i, numbers) for i, g in zip(node.op.inputs, s.input_grads)
                   if g is not None)
    lines = [head + f"{who} = {node.op.name}({args}) sent gradients to {to or 'no input'}"]
    return "\n".join(lines + formula_lines(node.op, s, numbers))


def _arrivals(graph, steps, node, numbers):
    """How a leaf's gradient came together: the one formula that made it, or the sum."""
    parts = []
    for s in steps:
        op = graph.node_of(s.tensor).op
        if op is None:
            continue
        for i, (inp, got) in enumerate(zip(op.inputs, s.input_grads)):
            if inp is node and got is not None:
                parts.append((op, s, i))
    if len(parts) == 1:
        op, s, i = parts[0]
        line = [x for x in formula_lines(op, s, numbers)
                if x.startswith(f"dL/d{name_of(node, numbers)} =")]
        return "\n" + line[0] if line else ""
    if parts:
        total = style.brief(sum(np.asarray(s.input_grads[i]) for _, s, i in parts))
        terms = " + ".join(_value(s.input_grads[i], wrap=True) for _, s, i in parts)
        return f"\ndL/d{name_of(node, numbers)} = {terms} = {total} (one term per use)"
    return ""
