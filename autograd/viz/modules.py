"""Which module each part of a graph belongs to, so a model's graph reads at the level of layers.

autograd never imports nn: a module is anything with `named_parameters()` (PyTorch-style
dotted names such as `encoder.0.weight`), optionally `named_modules()` for class names. A dict
`{name: tensor}` or a list of `(name, tensor)` pairs works too.

A parameter belongs to the module its dotted name points into (`encoder.0.weight` ->
`encoder.0`). An operation belongs to the module that ran it: nn.Module.__call__ notes each
call against the tensors it returns (autograd.scopes), and every tensor made during the call
is numbered between the call's two marks, so an operation goes to the innermost call whose
marks enclose its output's number (a shared module called twice boxes both calls' ops). The
loss, computed after the model returned, lies in no call and stays outside every box; the
root module ('') gets no box.

Modules that do not go through nn.Module.__call__ (a stand-in object, a dict of parameters)
leave no record; their operations are then attributed by a heuristic:

1. a tensor is *parameter-derived* when every input of the operation that made it is a
   parameter, parameter-derived, or a one-element constant (a number in the code): `W.T`
   inside a Linear, `0.5 * W`, a reparametrized weight psi(phi). Data breaks the chain;
2. an operation belongs to the innermost module that owns one of its parameter or
   parameter-derived inputs: when those modules are nested, the deepest one; when they are
   siblings (`a.0` and `a.1`), the module that contains both (`a`);
3. an operation that reads no parameter but sits between modules (an activation between two
   layers) goes to the innermost module containing every module upstream of it and every
   module downstream of it, when both sides lie inside modules;
4. the tensor an operation makes goes where the operation goes.

The heuristic cannot see a module that reads no parameter (Flatten, an activation module):
its operations land in a neighbour's box, which is why the record exists.
"""
import re

from gradspace.autograd import scopes


def module_path(param_name):
    """`encoder.0.weight` -> `encoder.0`; a top-level parameter -> ''."""
    return param_name.rpartition(".")[0]


def parameter_names(params, where="draw_graph"):
    """({id(tensor): name}, {module path: class name}, {id(module): path}) from a module, a
    dict, pairs or tensors."""
    if params is None:
        return {}, {}, {}
    types, owners = {}, {}
    if hasattr(params, "named_parameters"):
        pairs = list(params.named_parameters())
        if hasattr(params, "named_modules"):
            for path, m in params.named_modules():
                types[path] = type(m).__name__
                owners.setdefault(id(m), path)
    elif isinstance(params, dict):
        pairs = list(params.items())
    else:
        pairs = [(None, p) if hasattr(p, "grad_fn") else tuple(p) for p in params]
    names = {}
    for name, tensor in pairs:
        if not hasattr(tensor, "grad_fn"):
            raise TypeError(f"{where}: params maps {name!r} to a {type(tensor).__name__}, "
                            f"not a Tensor")
        names.setdefault(id(tensor), name if name is not None else tensor.name)
    return names, types, owners


def is_within(inner, outer):
    """Whether module path `inner` is `outer` or lies inside it ('' contains everything)."""
    return outer == "" or inner == outer or inner.startswith(outer + ".")


def common_module(paths):
    """The innermost module containing all of `paths`: the deepest when they are nested."""
    deepest = max(paths, key=lambda p: (p.count(".") + bool(p), p))
    if all(is_within(deepest, p) for p in paths):
        return deepest
    parts = deepest.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        outer = ".".join(parts[:cut])
        if all(is_within(p, outer) for p in paths):
            return outer
    return ""


def attribute(graph, owners=None):
    """Set `.module` on operations and their results: from the recorded calls of the modules
    in `owners` ({id(module): path}) when there are any, else by the heuristic."""
    if owners and _from_calls(graph, owners):
        return
    derived = {}                                   # TensorNode key -> module path
    for node in graph.tensors:                     # forward order: inputs are settled first
        if node.module is not None:                # a named parameter
            derived[node.key] = node.module
            continue
        op = node.op
        if op is None:
            continue
        owners = [derived[i.key] for i in op.inputs if i.key in derived]
        if not owners:
            continue
        op.module = node.module = common_module(owners)
        if all(i.key in derived or i.role == "number" for i in op.inputs):
            derived[node.key] = op.module
    _between_modules(graph)


def _from_calls(graph, owners):
    """Attribute every operation (and every constant made inside a call) to the innermost
    recorded call of a known module that made it. False when no such call was recorded."""
    calls, shapes = set(), {}
    for node in graph.tensors:
        for owner, first, last, ins in scopes.calls_of(node.tensor):
            if id(owner) in owners:
                calls.add((first, last, owners[id(owner)]))
                shapes.setdefault((first, owners[id(owner)]), ins)
    if not calls:
        return False
    for (_, path), ins in sorted(shapes.items()):      # the first call of a shared module
        graph.call_inputs.setdefault(path, ins)
    calls = sorted(calls, key=lambda c: (c[0], -c[1]))     # outer before inner at one start
    graph.recorded = True
    open_, i = [], 0                               # calls enclosing the current number
    for node in sorted(graph.tensors, key=lambda n: n.tensor._seq):
        seq = node.tensor._seq
        while i < len(calls) and calls[i][0] < seq:
            open_.append(calls[i])
            i += 1
        # Calls nest or are disjoint: once the ended ones on top are gone, the top is the
        # latest-started call still open, the innermost around `seq`.
        while open_ and open_[-1][1] < seq:
            open_.pop()
        if not open_ or node.role in ("param", "number"):
            continue
        path = open_[-1][2]
        node.module = path
        if node.op is not None:
            node.op.module = path
    return True


def _between_modules(graph):
    """Rule 3: place unattributed operations lying between modules."""
    up = {}                                        # op key -> module upstream, None: outside
    for op in graph.ops:
        found = []
        for i in op.inputs:
            if i.role == "number":
                continue
            found.append(i.module if i.op is None else (i.op.module or up[i.op.key]))
        up[op.key] = common_module(found) if found and None not in found else None
    down = {}
    for op in reversed(graph.ops):
        out = op.output
        found = [c.module or down[c.key] for c, _ in out.consumers]
        down[op.key] = (common_module(found) if found and None not in found
                        and out.role != "root" else None)
    for op in graph.ops:
        if op.module is None and up[op.key] is not None and down[op.key] is not None:
            place = common_module([up[op.key], down[op.key]])
            if place:
                op.module = op.output.module = place


def collapse_targets(graph, collapse):
    """The modules drawn as single nodes. collapse=True: every module that owns parameters
    directly; collapse=n: those modules cut to their first n path components. The root module
    ('') never collapses: that would turn the whole model into one node."""
    if collapse is False or collapse is None:
        return set()
    if collapse is not True and not (isinstance(collapse, int) and collapse > 0):
        raise ValueError(f"draw_graph: collapse must be False, True or a positive depth, "
                         f"got {collapse!r}")
    owners = {n.module for n in graph.tensors if n.role == "param" and n.module}
    # and, when calls were recorded, every innermost module that ran an operation (Flatten,
    # Tanh): each layer of a Sequential is then one node
    ran = {op.module for op in graph.ops if op.module}
    owners |= {p for p in ran if not any(q.startswith(p + ".") for q in graph.module_types)}
    if collapse is True:
        return owners
    return {".".join(p.split(".")[:collapse]) for p in owners}


def collapse_into(path, targets):
    """The innermost of `targets` containing module `path`, or None."""
    if not path:
        return None
    inside = [t for t in targets if is_within(path, t)]
    return max(inside, key=lambda t: t.count(".")) if inside else None


def dot_name(prefix, path, used):
    """A DOT id for a cluster or group node, unique among `used`."""
    base = prefix + (re.sub(r"\W", "_", path) or "_")
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}_{n}"
    used.add(name)
    return name


def cluster_tree(paths):
    """{path: [child paths]} for every path and its ancestors, with '' as the root key."""
    children = {"": []}
    for path in sorted(set(paths)):
        parts = path.split(".")
        for cut in range(1, len(parts) + 1):
            sub, parent = ".".join(parts[:cut]), ".".join(parts[:cut - 1])
            if sub not in children:
                children[sub] = []
                children[parent].append(sub)
    return children
