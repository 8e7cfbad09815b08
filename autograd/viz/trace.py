"""The backward pass as data: the steps the engine takes, and what is known after the first k.

`trace_backward` runs the engine's own iterator, `autograd.engine.steps`, so the order and every
number are the engine's, not a re-implementation. It passes every tensor of the graph as a
*target*: in that mode the engine collects gradients instead of accumulating them into leaves'
`.grad`, so tracing leaves the user's `.grad` alone. It runs with `retain_graph=True` by
default, so the user's graph stays usable, and under no_grad, so no graph of the backward pass
is recorded. Tensor hooks run, as they do in backward(): a hook that replaces a gradient
changes what the trace shows, exactly as it changes what backward() computes.
"""
from dataclasses import dataclass, field

import numpy as np

from gradspace.autograd import engine
from gradspace.autograd.grad_mode import no_grad


@dataclass(frozen=True, eq=False)
class BackwardStep:
    """One node of the backward pass, in the order the engine processed it.

    step: its position, 1-based. tensor: the Tensor whose gradient was just complete. op: the
    name of the operation that made it (None for a leaf). grad: d(root)/d(tensor) as it came in
    (after hooks). inputs: the operation's input Tensors (() for a leaf). input_grads: per
    input, the gradient sent to it, reduced to its shape and dtype (None where nothing was
    sent, e.g. to a constant). raw_input_grads: the same before the engine summed broadcast
    gradients back (`sum_to_size`); it differs in shape from the input exactly where the input
    was broadcast.
    """
    step: int
    tensor: object
    op: str | None
    grad: np.ndarray
    inputs: tuple = ()
    input_grads: tuple = ()
    raw_input_grads: tuple = ()

    @property
    def broadcast(self):
        """Per input: True where its gradient was summed back to its shape."""
        return tuple(raw is not None and raw.shape != tuple(t.shape)
                     for t, raw in zip(self.inputs, self.raw_input_grads))


def trace_backward(root, gradient=None, retain_graph=True):
    """The backward pass from `root` as a list of BackwardStep, in the engine's order.

    gradient: d(loss)/d(root), needed unless root has one element (then 1). With
    retain_graph=False the saved buffers are freed as in a plain backward(). .grad of leaves
    is never modified.
    """
    if not getattr(root, "requires_grad", False):
        raise RuntimeError("trace_backward: the root does not require grad, so there is no "
                           "backward pass to trace; did you forget requires_grad=True?")
    seed = root._root_gradient(gradient, "trace_backward")
    order = engine.topological_order([root])
    # Every tensor a target: the engine then fills no .grad (see engine.steps).
    targets = {id(t) for t in order}
    # Read now: with retain_graph=False the engine frees a node before yielding it.
    inputs_of = {id(t): tuple(t.grad_fn.inputs) for t in order if t.grad_fn is not None}
    steps = []
    with no_grad():
        for t, g, sent in engine.steps([root], [seed], retain_graph=retain_graph,
                                       targets=targets):
            fn = t.grad_fn
            inputs = inputs_of.get(id(t), ())
            received, raw = [], []
            for parent, pg in zip(inputs, sent):
                if pg is None or not parent.requires_grad:
                    received.append(None)
                    raw.append(None)
                    continue
                raw.append(_array(pg))
                received.append(_array(engine.reduce_to(pg, parent)))
            steps.append(BackwardStep(step=len(steps) + 1, tensor=t,
                                      op=fn.name if fn is not None else None,
                                      grad=_array(g), inputs=inputs,
                                      input_grads=tuple(received), raw_input_grads=tuple(raw)))
    return steps


def _array(g):
    return np.asarray(g.data)           # a row-sparse gradient densifies here


@dataclass(eq=False)
class State:
    """What the drawing knows after the first k backward steps, keyed by DOT node id."""
    k: int = 0
    total: int = 0
    grads: dict = field(default_factory=dict)      # tensor key -> complete gradient
    partial: dict = field(default_factory=dict)    # tensor key -> gradient summed so far
    numbers: dict = field(default_factory=dict)    # tensor key -> its step number
    done_ops: set = field(default_factory=set)     # op keys already run backward (freed)
    out_grads: dict = field(default_factory=dict)  # op key -> gradient that came in
    sent: dict = field(default_factory=dict)       # (op key, input index) -> gradient received
    raw: dict = field(default_factory=dict)        # (op key, input index) -> before sum_to
    broadcast: dict = field(default_factory=dict)  # (op key, input index) -> (from, to) shapes
    latest: str | None = None                      # tensor key of step k


def state_after(graph, steps, k):
    """The State after the first k of `steps` (a trace of `graph`). Broadcast sites are taken
    from the whole trace, so every frame of a player draws the same nodes."""
    state = State(k=k, total=len(steps))
    for s in steps:
        op = graph.node_of(s.tensor).op
        for i, flag in enumerate(s.broadcast):
            if flag:
                state.broadcast[(op.key, i)] = (tuple(s.inputs[i].shape),
                                                s.raw_input_grads[i].shape)
    for s in steps[:k]:
        node = graph.node_of(s.tensor)
        state.partial.pop(node.key, None)
        state.grads[node.key] = s.grad
        state.numbers[node.key] = s.step
        state.latest = node.key
        if node.op is None:
            continue
        state.done_ops.add(node.op.key)
        state.out_grads[node.op.key] = s.grad
        for i, (inp, got) in enumerate(zip(node.op.inputs, s.input_grads)):
            if got is None:
                continue
            state.sent[(node.op.key, i)] = got
            state.raw[(node.op.key, i)] = s.raw_input_grads[i]
            if inp.key not in state.grads:
                before = state.partial.get(inp.key)
                state.partial[inp.key] = got if before is None else before + got
    return state


FREED_CAPTION = ("after backward(): its buffers are freed\nintermediate values and gradients "
                 "are gone (marked freed); leaves show their .grad")


def freed_state(graph):
    """What a drawing knows of a graph that backward() already freed: every operation ran
    (and let go of its buffers), and each leaf holds the .grad backward left there."""
    state = State()
    for node in graph.tensors:
        grad = getattr(node.tensor, "grad", None)
        if node.op is None and grad is not None:
            state.grads[node.key] = _array(grad)
    state.done_ops = {op.key for op in graph.ops}
    return state
