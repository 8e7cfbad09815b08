"""draw_graph and draw_backward: a computation graph, and backpropagation through it, as DOT.

Both read the graph (graph.read_graph), trace one backward pass with the engine's own iterator
(trace.trace_backward: retain_graph=True, no .grad touched; tensor hooks run as in backward),
and turn "what is known after k steps" (trace.State) into a Drawing (a graphviz.Digraph that
displays inline in notebooks). draw_graph shows the end state without step numbers;
draw_backward shows step numbers, the gradient on every edge it travelled, freed operations,
and the latest step in red. Styles and the colour scale are documented in viz.style.

Limits, measured on a 2-core machine with graphviz-pure 0.2.2 (tests/autograd/test_viz_scale.py
keeps them honest): a 2,000-operation chain (5,000 nodes) builds its DOT in ~0.3 s and renders
to SVG in ~0.8 s (draw_backward's, with a label on every edge: ~3 s); a 30-layer MLP with
module boxes (~340 nodes) renders in 0.05 s, and `collapse=True` cuts it to one node per
layer (~100 nodes). PNGs are scaled to fit 100 inches (rendering.RASTER_INCHES): past a few
hundred nodes in a row, use SVG and zoom. Layout time grows faster than the node count where
edges cross a lot, so past ~5,000 nodes prefer `collapse=True`, `show_data=False`, or a
sub-loss; the DOT itself is always cheap, and `.dot` files need no renderer.
"""
import numpy as np

from gradspace.autograd.dtypes import get_default_dtype
from gradspace.autograd.viz import modules, style
from gradspace.autograd.viz.chain import step_caption
from gradspace.autograd.viz.graph import is_freed, op_params, read_graph
from gradspace.autograd.viz.rendering import drawing_class
from gradspace.autograd.viz.trace import (
    FREED_CAPTION,
    State,
    freed_state,
    state_after,
    trace_backward,
)


def draw_graph(root, show_data=True, show_grad=True, rankdir="TB", params=None, collapse=False,
               gradient=None, legend=True, color="relative"):
    """The computation graph of `root` as a graphviz.Digraph (a Drawing).

    One node per tensor (its name, shape, and its values and d(root)/d(tensor) when small, a
    summary when large) and one per operation; edges in forward order. Tensors are coloured
    by gradient magnitude (see viz.style). params: a module (anything with named_parameters(),
    optionally named_modules()), a dict {name: tensor} or (name, tensor) pairs: parameters are
    named and styled as such, and each module's part of the graph is boxed (see viz.modules
    for how operations are attributed). collapse=True draws each module as one node
    (collapse=n: modules n levels deep). gradient: the seed d(loss)/d(root) when root is not
    a scalar; without it a non-scalar root's drawing shows no gradients.
    """
    if collapse and params is None:
        raise ValueError("draw_graph: collapse needs params= (a module or named parameters): "
                         "modules are what it collapses")
    check_rankdir(rankdir, "draw_graph")
    style.make_scale(color, [], "draw_graph")
    graph = read_graph(root, params, "draw_graph")
    if graph.freed:                                # after backward(): leaves' .grad only
        state = freed_state(graph)
        return build(graph, state, show_data=show_data, show_grad=show_grad, rankdir=rankdir,
                     collapse=collapse, legend=legend, title=FREED_CAPTION,
                     scale=style.make_scale(color, state.grads.values(), "draw_graph"))
    steps, seeded = _trace_for_drawing(root, gradient)
    state = state_after(graph, steps, len(steps))
    scale = style.make_scale(color, [s.grad for s in steps], "draw_graph")
    title = ""
    if show_grad and not seeded and root.requires_grad:
        title = (f"gradients not shown: the root has shape {style.shape_text(root.shape)}; "
                 f"pass gradient= to draw d(root)/d(.) for that seed")
    return build(graph, state, show_data=show_data, show_grad=show_grad and seeded,
                 rankdir=rankdir, collapse=collapse, legend=legend and seeded, title=title,
                 scale=scale)


def draw_backward(root, step=None, show_data=True, rankdir="TB", params=None, gradient=None,
                  legend=True, direction="forward", color="relative"):
    """The graph of `root` after the engine's first `step` backward steps (None: all).

    Every tensor whose gradient is complete shows it and is numbered in backward order (#1 is
    the root); a tensor still collecting gradient from several consumers shows "grad so far";
    every edge a gradient travelled is labelled with its value; operations the backward pass
    already went through are drawn dashed and marked "freed" (a plain backward() frees their
    saved buffers there); the latest step is outlined in red. Nothing of the user's is
    changed: .grad stays as it was and the graph stays usable.

    direction="backward" points every arrow the way gradients flow, from the root towards
    the leaves, and turns the drawing around so it reads in that order (the root on top for
    rankdir="TB"); the layout is the forward drawing's, mirrored. color: as in draw_graph,
    the relative scale spread over the whole backward pass, so colours mean the same at
    every step.
    """
    check_rankdir(rankdir, "draw_backward")
    check_direction(direction, "draw_backward")
    style.make_scale(color, [], "draw_backward")
    graph = read_graph(root, params, "draw_backward")
    if graph.freed and step is None:               # after backward(): the end, as recorded
        state = freed_state(graph)
        return build(graph, state, show_data=show_data, backward=True, rankdir=rankdir,
                     legend=legend, title=FREED_CAPTION, direction=direction,
                     scale=style.make_scale(color, state.grads.values(), "draw_backward"))
    graph, steps = backward_trace(root, params, gradient, "draw_backward", graph)
    k = len(steps) if step is None else check_step(step, len(steps))
    return backward_frame(graph, steps, k, show_data=show_data, rankdir=rankdir, legend=legend,
                          direction=direction, color=color)


def backward_trace(root, params, gradient, where, graph=None):
    """(Graph, steps) for drawing the backward pass of `root` (graph: already read)."""
    graph = graph or read_graph(root, params, where)
    if graph.freed:
        raise RuntimeError(f"{where}: backward() already ran through this graph and freed its "
                           f"buffers, so its steps cannot be replayed; draw before backward(), "
                           f"or call backward(retain_graph=True)")
    return graph, trace_backward(root, gradient)


def check_rankdir(rankdir, where):
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"{where}: rankdir must be 'LR' (left to right), 'TB' (top to "
                         f"bottom), 'RL' or 'BT', got {rankdir!r}")


def check_direction(direction, where):
    if direction not in ("forward", "backward"):
        raise ValueError(f"{where}: direction must be 'forward' (arrows from inputs to "
                         f"results) or 'backward' (the way gradients flow), got {direction!r}")


def check_step(step, total):
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) \
            or not 0 <= step <= total:
        raise ValueError(f"draw_backward: step must be an integer from 0 to {total} (this "
                         f"backward pass has {total} steps), got {step!r}")
    return int(step)


def backward_frame(graph, steps, k, show_data=True, rankdir="TB", legend=True, steady=None,
                   direction="forward", color="relative"):
    """The Drawing after k of `steps`, with its caption. steady: see build."""
    state = state_after(graph, steps, k)
    caption = step_caption(graph, steps, k)
    scale = style.make_scale(color, [s.grad for s in steps], "draw_backward")
    drawing = build(graph, state, show_data=show_data, show_grad=True, backward=True,
                    rankdir=rankdir, legend=legend, steady=steady,
                    # a steady player shows the caption above the picture: a title of its own
                    # width would shift the layout from frame to frame
                    title="" if steady else caption,
                    direction=direction, scale=scale)
    drawing.caption = caption
    return drawing


def _trace_for_drawing(root, gradient):
    """(steps, seeded): a non-scalar root without a seed is traced with ones, which tells
    where broadcasting is summed back, but its gradients are not shown."""
    if not getattr(root, "requires_grad", False):
        return [], False
    if gradient is None and root.data.size != 1:
        return trace_backward(root, np.ones(root.shape, root.dtype)), False
    return trace_backward(root, gradient), True


REVERSED = {"TB": "BT", "BT": "TB", "LR": "RL", "RL": "LR"}


def build(graph, state=None, show_data=True, show_grad=True, backward=False, rankdir="TB",
          collapse=False, legend=True, title="", steady=None, direction="forward",
          scale=None):
    """The Drawing of `graph` in `state` (a trace.State; None: nothing computed).

    steady=(sizes, final): pin every node to a size ({key: (width, height)} in inches,
    fixedsize; the players pass the largest each node takes over all frames) and give every
    edge its label in `final` (the last State), invisible until its gradient has travelled.
    dot's layout depends only on sizes and structure, so every frame of a player then has the
    same layout and nothing jumps between steps.
    """
    state = state or State()
    scale = scale or style.FIXED
    sizes, final = steady or ({}, None)
    edge_attr = style.EDGE_ATTR
    if direction == "backward":
        # Edges stay input -> result, so dot lays the graph out as in the forward drawing;
        # dir=back draws each arrowhead at the input, and the reversed rank direction puts
        # the root first: the arrows then read the way gradients flow.
        rankdir, edge_attr = REVERSED[rankdir], {**edge_attr, "dir": "back"}
    drawing = drawing_class()(
        name="gradspace", graph_attr={**style.GRAPH_ATTR, "rankdir": rankdir},
        node_attr=style.NODE_ATTR, edge_attr=edge_attr)
    if title:
        drawing.attr(label=style.dot_text(style.wrap(title)), labelloc="t")
    nodes, groups, rep = {}, {}, {}            # cluster path -> node statements; group nodes
    members = {}                               # group node -> [[TensorNodes], [OpNodes]]
    used = set()
    targets = modules.collapse_targets(graph, collapse)
    for path in sorted(targets):
        groups[path] = modules.dot_name("m_", path, used)

    def place(path, key, label, attrs):
        if key in sizes:
            attrs.update(width=sizes[key][0], height=sizes[key][1], fixedsize="true")
        nodes.setdefault(path or "", []).append((key, label, attrs))

    for node in graph.tensors:
        if node.role == "number":
            continue                               # drawn once per use, by _edges
        group = modules.collapse_into(node.module, targets)
        if group is not None:
            rep[node.key] = groups[group]
            members.setdefault(rep[node.key], [[], []])[0].append(node)
            continue
        place(node.module, node.key, *_tensor_node(node, state, show_data, show_grad,
                                                   backward, scale))
    for op in graph.ops:
        group = modules.collapse_into(op.module, targets)
        if group is not None:
            rep[op.key] = groups[group]
            members.setdefault(rep[op.key], [[], []])[1].append(op)
            continue
        place(op.module, op.key, *_op_node(op, state, backward))
    for path, key in groups.items():
        tensors, ops = members.get(key, ([], []))
        place(path.rpartition(".")[0], key,
              *_group_node(graph, path, key, tensors, ops, rep, state, show_grad, scale))
    edges = _edges(graph, state, rep, backward, place, final)
    _emit(drawing, nodes, graph.module_types, used)
    for src, dst, attrs in edges:
        drawing.edge(src, dst, **attrs)
    if legend and show_grad and graph.root.tensor.requires_grad:
        drawing.node("legend", label=style.legend_label(scale), shape="plaintext")
    return drawing


def _tensor_node(node, state, show_data, show_grad, backward, scale):
    t = node.tensor
    head = []                                   # "#3 name (3, 1)": step, name, shape
    if backward and node.key in state.numbers:
        head.append(f"#{state.numbers[node.key]}")
    if node.name:
        head.append(node.name)
    head.append(style.shape_text(t.shape))
    if t.dtype != get_default_dtype():
        head.append(str(t.dtype))
    lines = [" ".join(head)]
    tip = []
    freed = is_freed(t)
    if show_data and freed:
        lines.append("data freed")
        tip.append("data: freed by backward(), which keeps only the graph's structure")
    elif show_data:
        lines.append("data " + style.compact(t.data))
        tip.append("data " + style.exact(t.data))
    grad = state.grads.get(node.key) if show_grad else None
    if grad is not None:
        lines.append("grad " + style.compact(grad))
        tip.append("grad " + style.exact(grad))
    elif show_grad and node.key in state.partial:
        lines.append("grad so far " + style.compact(state.partial[node.key]))
        tip.append("grad so far " + style.exact(state.partial[node.key]))
    attrs = dict(style.TENSOR_STYLES[node.role])
    if freed:
        attrs["style"] += ",dashed"
    if node.role != "constant":
        attrs["fillcolor"], attrs["fontcolor"] = scale.colors(grad)
    if tip:
        attrs["tooltip"] = style.dot_text("\n".join(tip))
    if backward and node.key == state.latest:
        attrs.update(color=style.HIGHLIGHT, penwidth="3")
    return style.dot_label(lines), attrs


def _op_node(op, state, backward):
    lines = [op.name] + op_params(op.fn)
    freed = backward and op.key in state.done_ops
    attrs = dict(style.FREED_OP_STYLE if freed else style.OP_STYLE)
    if freed:
        lines.append("freed")
    if backward and op.output.key == state.latest:
        attrs.update(color=style.HIGHLIGHT, penwidth="2.5", fontcolor=style.HIGHLIGHT)
    return style.dot_label(lines), attrs


def _group_node(graph, path, key, members, ops, rep, state, show_grad, scale):
    """One node standing for a collapsed module: its parameters, the shapes that go in and
    come out, its number of operations and its gradient scale."""
    params = [n for n in members if n.role == "param"]
    kind = graph.module_types.get(path)
    lines = [path + (f" ({kind})" if kind else "")]
    shown = ", ".join(f"{(n.name or '').rpartition('.')[2]} {style.shape_text(n.tensor.shape)}"
                      for n in params[:4])
    if params:
        lines.append(f"params: {shown}" + (", ..." if len(params) > 4 else ""))
    ins, seen = [], set()
    for op in ops:
        for i in op.inputs:
            if rep.get(i.key) != key and i.role != "number" and i.key not in seen:
                seen.add(i.key)
                ins.append(i)
    shapes = graph.call_inputs.get(path) or [n.tensor.shape for n in ins]
    if shapes:
        lines.append("in " + ", ".join(style.shape_text(s) for s in shapes[:3])
                     + (", ..." if len(shapes) > 3 else ""))
    outs = [n for n in members if n.role == "root"
            or any(rep.get(op.key) != key for op, _ in n.consumers)]
    if outs:
        lines.append("out " + ", ".join(style.shape_text(n.tensor.shape) for n in outs[:3]))
    lines.append(f"{len(ops)} op" + ("" if len(ops) == 1 else "s"))
    grads = [state.grads[n.key] for n in (params or members) if n.key in state.grads]
    attrs = dict(style.GROUP_STYLE)
    grad = None
    if show_grad and grads:
        grad = np.array([style.magnitude(g) for g in grads])
        lines.append("max |grad| " + style.number(grad.max()))
    attrs["fillcolor"], attrs["fontcolor"] = scale.colors(grad)
    return style.dot_label(lines), attrs


def _edges(graph, state, rep, backward, place, final=None):
    """Edges in forward order (inputs -> operation -> result), labelled with gradients in
    backward drawings; a broadcast input goes through a small "sum_to" node. `final`: the
    last State, whose labels stand invisible on edges no gradient has travelled yet."""
    edges, seen = [], set()
    final = final or State()

    def add(src, dst, grad=None, hot=False, ghost=None):
        src, dst = rep.get(src, src), rep.get(dst, dst)
        if src == dst or (grad is None and (src, dst) in seen and rep):
            return                                 # inside one collapsed module
        seen.add((src, dst))
        attrs = {}
        if backward and grad is not None:
            attrs.update(label=style.dot_label([style.brief(grad)]), fontcolor=style.GRAD_EDGE,
                         color=style.GRAD_EDGE,
                         labeltooltip=style.dot_text(style.exact(grad)))
        elif backward and ghost is not None:
            # Laid out like the final label, its text then removed (playback.strip_ghosts):
            # system dot 2.43 writes fontcolor "transparent" as near-white visible text.
            attrs.update(label=style.dot_label([style.brief(ghost)]), fontcolor="transparent",
                         **{"class": style.GHOST_CLASS})
        if hot:
            attrs.update(color=style.HIGHLIGHT, penwidth="2.5")
        edges.append((src, dst, attrs))

    for op in graph.ops:
        hot = backward and op.output.key == state.latest
        for i, inp in enumerate(op.inputs):
            site = (op.key, i)
            if inp.role == "number":
                if op.key not in rep:
                    key = f"{op.key}_n{i}"
                    place(op.module, key, style.dot_label([style.number(inp.tensor.data.item())]),
                          dict(style.TENSOR_STYLES["number"]))
                    add(key, op.key)
                continue
            sent = state.sent.get(site)
            if site in state.broadcast and op.key not in rep:
                was, to = state.broadcast[site]
                key = f"s{op.key}_{i}"
                place(op.module, key, style.dot_label([f"broadcast to {style.shape_text(to)}",
                                              f"grad: sum_to {style.shape_text(was)}"]),
                      dict(style.BROADCAST_STYLE))
                add(inp.key, key, sent, hot, final.sent.get(site))
                add(key, op.key, state.raw.get(site), hot, final.raw.get(site))
            else:
                add(inp.key, op.key, sent, hot, final.sent.get(site))
        add(op.key, op.output.key, state.out_grads.get(op.key), hot,
            final.out_grads.get(op.key))
    return edges


def _emit(drawing, nodes, module_types, used):
    """Write node statements, each module's inside a (nested) `subgraph cluster_...`."""
    tree = modules.cluster_tree(p for p in nodes if p)

    def write(container, path):
        for key, label, attrs in nodes.get(path, ()):
            container.node(key, label=label, **attrs)
        for child in tree.get(path, ()):
            kind = module_types.get(child)
            with container.subgraph(name=modules.dot_name("cluster_", child, used)) as sub:
                sub.attr(label=style.dot_text(child + (f" ({kind})" if kind else "")),
                         **style.CLUSTER_ATTR)
                write(sub, child)

    write(drawing, "")
