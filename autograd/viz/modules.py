"""Which module each part of a graph belongs to, so a model's graph reads at the level of layers.

autograd never imports nn: a module is anything with `named_parameters()` (PyTorch-style
dotted names such as `encoder.0.weight`), optionally `named_modules()` for class names. A dict
`{name: tensor}` or a list of `(name, tensor)` pairs works too.

A parameter belongs to the module its dotted name points into (`encoder.0.weight` ->
`encoder.0`). Operations are not registered anywhere, so they are attributed by a heuristic:

1. a tensor is *parameter-derived* when every input of the operation that made it is a
   parameter, parameter-derived, or a one-element constant (a number in the code): `W.T`
   inside a Linear, `0.5 * W`, a reparametrized weight psi(phi). Data breaks the chain;
2. an operation belongs to the innermost module that owns one of its parameter or
   parameter-derived inputs: when those modules are nested, the deepest one; when they are
   siblings (`a.0` and `a.1`), the module that contains both (`a`);
3. an operation that reads no parameter but sits between modules (an activation between two
   layers) goes to the innermost module containing every module upstream of it and every
   module downstream of it, when both sides lie inside modules: a ReLU between `encoder.0`
   and `encoder.2` lands in `encoder`; a loss after the model, fed from outside, stays out;
4. the tensor an operation makes goes where the operation goes.

So `x @ W.T + b` lands in the Linear's box, the ReLU of `nn.Sequential(Linear, ReLU,
Linear)` between the two boxes (the Sequential is the root module, which gets no box), and the
loss outside every box. The root module's own parameters have the path "" and no box either.
"""
import re


def module_path(param_name):
    """`encoder.0.weight` -> `encoder.0`; a top-level parameter -> ''."""
    return param_name.rpartition(".")[0]


def parameter_names(params, where="draw_graph"):
    """({id(tensor): name}, {module path: class name}) from a module, a dict, pairs or tensors."""
    if params is None:
        return {}, {}
    types = {}
    if hasattr(params, "named_parameters"):
        pairs = list(params.named_parameters())
        if hasattr(params, "named_modules"):
            types = {path: type(m).__name__ for path, m in params.named_modules()}
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
    return names, types


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


def attribute(graph):
    """Set `.module` on operations and their results by the heuristic in the module docstring."""
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
