"""Reading a computation graph into plain data: every tensor and operation that leads to a root.

A drawing needs more than the engine's walk does: the engine visits only tensors that require
grad, while a drawing also shows the constants an operation read (the `2` of `x * 2`, an input
batch). So this walk follows every input of every node, iteratively (no recursion limit), and
lists tensors and operations in forward order: each after everything it was computed from.

Nothing here imports graphviz; the drawings, the trace and the tests all read this model.
"""
from dataclasses import dataclass, field

from gradspace.autograd import version
from gradspace.autograd.viz import modules

FREED = ("{where}: the graph below {op} was freed by an earlier backward(), so it can no longer "
         "be read. Draw before calling backward(), or call backward(retain_graph=True).")


class FreedTensor:
    """Stands in for an intermediate tensor after backward() freed the graph's buffers.

    A node that backward released keeps, per input, the leaf Tensor itself or a record of an
    intermediate (Function.edges): the node that made it, its name, shape, dtype and creation
    number, but not its array. The drawing shows that record, and its value as freed.
    """
    requires_grad = True
    grad = None
    data = None
    freed = True

    def __init__(self, grad_fn, name, shape, dtype, seq):
        self.grad_fn, self.name, self.shape, self.dtype, self._seq = \
            grad_fn, name, tuple(shape), dtype, seq


def node_inputs(fn, stand_ins, where="draw_graph"):
    """fn's input Tensors; after backward() freed fn, what its edges recorded (FreedTensor for
    an intermediate, one per producing node: `stand_ins` maps id(grad_fn) to it)."""
    if fn.inputs is not None:
        return fn.inputs
    edges = getattr(fn, "edges", None)
    if edges is None:
        raise RuntimeError(FREED.format(where=where, op=fn.name))
    inputs = []
    for edge in edges:
        if isinstance(edge, tuple):
            edge = stand_ins.setdefault(id(edge[0]), FreedTensor(*edge))
        inputs.append(edge)
    return tuple(inputs)


def is_freed(tensor):
    return getattr(tensor, "freed", False)


@dataclass(eq=False)
class OpNode:
    """One recorded operation: the Function, the tensor it made and the tensors it read."""
    key: str                    # DOT id
    fn: object                  # the autograd Function (its .inputs are the input Tensors)
    output: "TensorNode"
    inputs: list                # TensorNodes in the order of fn.inputs (a repeated input repeats)
    module: str | None = None   # the module path it is attributed to (see modules.attribute)

    @property
    def name(self):
        return self.fn.name


@dataclass(eq=False)
class TensorNode:
    """One tensor of the graph and what it is to the drawing."""
    key: str                    # DOT id
    tensor: object              # the Tensor
    role: str                   # "root", "param", "leaf", "constant", "number", "intermediate"
    name: str | None            # parameter name, else Tensor.name, else None
    op: OpNode | None = None    # the operation that made it; None for leaves and constants
    module: str | None = None   # module path for parameters and attributed results
    consumers: list = field(default_factory=list)  # (OpNode, input index) pairs that read it


@dataclass(eq=False)
class Graph:
    """The tensors and operations leading to `root`, each list in forward order."""
    root: TensorNode
    tensors: list
    ops: list
    by_id: dict                 # id(Tensor) -> TensorNode
    module_types: dict          # module path -> class name, when a module was given
    recorded: bool = False      # ops attributed from recorded module calls, not guessed
    freed: bool = False         # backward() freed its buffers: intermediates are FreedTensors
    call_inputs: dict = field(default_factory=dict)   # module path -> shapes its call got

    def node_of(self, tensor):
        return self.by_id[id(tensor)]


def forward_order(root, where="draw_graph", stand_ins=None):
    """Every tensor `root` was computed from, constants included, each after all of its inputs.

    Iterative depth-first search. Through a node freed by backward() it follows the node's
    record of its edges (node_inputs); raises RuntimeError (before anything else happens) only
    when that record is missing.
    """
    stand_ins = {} if stand_ins is None else stand_ins
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        fn = t.grad_fn
        if fn is not None:
            if fn.inputs is not None and version.last_change > t._seq:   # changed in place
                version.resolve(t, fn)           # since: the values fn used (autograd/version)
            for parent in reversed(node_inputs(fn, stand_ins, where)):   # first input first
                if id(parent) not in seen:
                    stack.append((parent, False))
    return order


def read_graph(root, params=None, where="draw_graph"):
    """The Graph of `root`; `params` names parameters (see modules.parameter_names)."""
    if not hasattr(root, "grad_fn") or not hasattr(root, "data"):
        raise TypeError(f"{where}: expected a Tensor to draw, got {type(root).__name__}")
    names, module_types, owners = modules.parameter_names(params, where)
    stand_ins = {}
    order = forward_order(root, where, stand_ins)
    tensors, ops, by_id = [], [], {}
    for t in order:
        is_param = id(t) in names or type(t).__name__ == "Parameter"
        if t is root:
            role = "root"
        elif is_param:
            role = "param"
        elif not t.requires_grad:
            # An unnamed one-element constant is a number written in the code (the 2 of
            # `x * 2`); the engine shares those between operations, so a drawing gives each
            # use its own small node rather than one hub wired to every place it appears.
            role = "number" if t.data.size == 1 and not t.name else "constant"
        elif t.grad_fn is None:
            role = "leaf"
        else:
            role = "intermediate"
        node = TensorNode(key=f"t{len(tensors)}", tensor=t, role=role,
                          name=names.get(id(t)) or t.name)
        if names.get(id(t)):
            node.module = modules.module_path(names[id(t)])
        by_id[id(t)] = node
        tensors.append(node)
        fn = t.grad_fn
        if fn is not None:
            op = OpNode(key=f"f{len(ops)}", fn=fn, output=node,
                        inputs=[by_id[id(p)] for p in node_inputs(fn, stand_ins, where)])
            for i, inp in enumerate(op.inputs):
                inp.consumers.append((op, i))
            node.op = op
            ops.append(op)
    graph = Graph(root=by_id[id(root)], tensors=tensors, ops=ops, by_id=by_id,
                  module_types=module_types, freed=bool(stand_ins) or any(
                      op.fn.inputs is None for op in ops))
    modules.attribute(graph, owners)
    return graph


def op_params(fn):
    """The small settings an operation recorded (`dims=(1,)`, `keepdim=True`), for its label.

    Read generically from the node's slots and __dict__, so the engine never has to describe
    its operations; arrays and long values are left out.
    """
    names = []
    for cls in type(fn).__mro__:
        names.extend(s for s in getattr(cls, "__slots__", ()) if s not in names)
    names.extend(n for n in getattr(fn, "__dict__", {}) if n not in names)
    shown = []
    for name in names:
        if name in ("inputs", "needs_input_grad", "edges", "calls") or name.startswith("_"):
            continue
        value = getattr(fn, name, None)
        if value is None or value is False \
                or not isinstance(value, (bool, int, float, str, tuple)):
            continue
        text = repr(value)
        if len(text) <= 24:
            shown.append(f"{name}={text}")
    return shown
