"""Drawing the computation graph, and backpropagation through it step by step.

    >>> from gradspace.autograd import Tensor, viz
    >>> a = Tensor(2.0, requires_grad=True, name="a")
    >>> b = Tensor(-3.0, requires_grad=True, name="b")
    >>> L = a * b
    >>> viz.draw_graph(L)                     # displays inline in a notebook
    >>> viz.save(viz.draw_backward(L, step=1), "step1.svg")
    >>> viz.save_player(L, "backprop.html")   # one HTML file, next/previous through the steps

- graph.py      the graph as plain data (every tensor and operation, in forward order),
                read after backward() from what the freed nodes kept (autograd.edges)
- modules.py    parameter names and module boxes: each op in the module call that made it
                (autograd.scopes), duck-typed (autograd never imports nn)
- trace.py      trace_backward: the engine's own backward steps, recorded without touching .grad
- chain.py      each backward step as the chain rule: formula, then numbers (ops' `formulas`)
- style.py      number formatting, the gradient colour scales (relative, fixed), node styles
- draw.py       draw_graph, draw_backward
- rendering.py  render, save: system `dot` when on PATH, else graphviz-pure; Drawing
- playback.py   player (Jupyter slider), save_player (self-contained HTML)

Nothing here imports graphviz until a drawing is made.
"""
from gradspace.autograd.viz.draw import draw_backward, draw_graph
from gradspace.autograd.viz.playback import backward_frames, player, player_html, save_player
from gradspace.autograd.viz.rendering import find_renderer, render, save
from gradspace.autograd.viz.style import BIN_EDGES, PALETTE, grad_colors
from gradspace.autograd.viz.trace import BackwardStep, trace_backward

__all__ = ["BIN_EDGES", "PALETTE", "BackwardStep", "Drawing", "backward_frames",
           "draw_backward", "draw_graph", "find_renderer", "grad_colors", "player",
           "player_html", "render", "save", "save_player", "trace_backward"]


def __getattr__(name):
    if name == "Drawing":                     # made on first use: it subclasses graphviz.Digraph
        from gradspace.autograd.viz.rendering import drawing_class
        return drawing_class()
    raise AttributeError(f"module 'gradspace.autograd.viz' has no attribute {name!r}")
