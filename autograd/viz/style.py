"""How a drawing looks: number formatting, the gradient colour scale, and the node styles.

Colour scale. A tensor node is filled by the magnitude of its gradient, m = max |grad|, in 7
bins of log10 m coloured by the 7-step viridis palette (sequential, perceptually uniform,
colour-blind safe), from dark purple (white text) to bright yellow. Two scales:

- "relative" (the default): the 7 bins split the range of log10 m that this graph's own
  gradients span (zero gradients aside: they fall in the first bin), so the colours spread
  over the graph whatever its scale: a gradient that shrinks layer by layer through a deep
  sigmoid stack darkens layer by layer. The legend gives each bin's range. With one size of
  gradient only, the bins are decades around it.
- "fixed": the same decades in every drawing, so two drawings compare at a glance:

    bin   m                 colour
    0     < 1e-6            #440154  dark purple: vanishing (0 included)
    1     1e-6 .. 1e-4      #443983
    2     1e-4 .. 0.01      #31688e
    3     0.01 .. 1         #21918c
    4     1 .. 10           #35b779
    5     10 .. 1000        #90d743
    6     >= 1000           #fde725  bright yellow: exploding

A gradient holding nan or inf is red (#e41a1c) on both scales. A node whose gradient is not
known (yet) is white.

Node styles, so roles read without colour:
    root            rounded box with a double border
    parameter       3-d box ("box3d"), bold border
    leaf input      plain box (square corners)
    intermediate    rounded box
    constant        dashed grey box, no fill (it gets no gradient)
    number          a number written in the code (`2` in `x * 2`): plain grey text, one per use
    operation       small grey ellipse; dashed with "freed" once backward has run through it
    broadcast       small dashed note "sum_to (3, 1)" on the edge where an input was broadcast

Numbers: 4 significant digits (`%.4g`); a tensor of at most SMALL elements shows its values,
a larger one a summary "norm .. min .. max ..". Tooltips (hover in an SVG) carry the values
at full precision.
"""
import bisect
import html
import math

import numpy as np

SMALL = 6                                    # tensors up to this many elements show values
BIN_EDGES = (1e-6, 1e-4, 1e-2, 1.0, 1e1, 1e3)
PALETTE = ("#440154", "#443983", "#31688e", "#21918c", "#35b779", "#90d743", "#fde725")
BIN_NAMES = ("< 1e-6", "1e-6 .. 1e-4", "1e-4 .. 0.01", "0.01 .. 1", "1 .. 10", "10 .. 1e3",
             ">= 1e3")
NONFINITE = "#e41a1c"
DARK_BINS = 3                                # bins 0..2 are dark: write on them in white

FONT = "DejaVu Sans"
# nslimit bounds dot's network-simplex passes that place nodes: graphviz-pure can otherwise
# spend minutes on a few hundred nodes of some sizes (measured: 14 s -> 0.2 s on a 300-node
# chain); small graphs come out the same either way.
GRAPH_ATTR = {"fontname": FONT, "fontsize": "12", "nodesep": "0.25", "ranksep": "0.35",
              "nslimit": "2"}
NODE_ATTR = {"fontname": FONT, "fontsize": "11", "margin": "0.1,0.06", "height": "0.3"}
EDGE_ATTR = {"fontname": FONT, "fontsize": "9", "arrowsize": "0.6"}

TENSOR_STYLES = {
    "root": {"shape": "box", "style": "rounded,filled", "peripheries": "2", "penwidth": "1.5"},
    "param": {"shape": "box3d", "style": "filled", "penwidth": "2"},
    "leaf": {"shape": "box", "style": "filled", "penwidth": "1.2"},
    "intermediate": {"shape": "box", "style": "rounded,filled"},
    "constant": {"shape": "box", "style": "dashed", "color": "#999999", "fontcolor": "#555555",
                 "fontsize": "9"},
    "number": {"shape": "plaintext", "fontcolor": "#555555", "fontsize": "9", "height": "0.2",
               "width": "0.2", "margin": "0.02"},
}
OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#e6e6e6", "fontsize": "10",
            "height": "0.25"}
FREED_OP_STYLE = {"shape": "ellipse", "style": "filled,dashed", "fillcolor": "#f7f7f7",
                  "color": "#aaaaaa", "fontcolor": "#999999", "fontsize": "10",
                  "height": "0.25"}
BROADCAST_STYLE = {"shape": "note", "style": "dashed", "color": "#888888",
                   "fontcolor": "#555555", "fontsize": "9", "height": "0.2"}
GROUP_STYLE = {"shape": "box3d", "style": "filled", "penwidth": "1.5"}
CLUSTER_ATTR = {"style": "rounded", "color": "#8c8c8c", "fontsize": "11", "labeljust": "l"}
HIGHLIGHT = "#d62728"                        # the most recent backward step
GRAD_EDGE = "#b2182b"                        # labels of gradients that travelled an edge
GHOST_CLASS = "gs-ghost"                     # SVG class of an edge label reserved, not shown


class Scale:
    """Bins of m = max |grad|: `edges` (6 increasing numbers) split m into the 7 colours."""

    def __init__(self, edges, kind):
        self.edges, self.kind = tuple(float(e) for e in edges), kind

    def bin(self, grad):
        """Index into PALETTE for a gradient; None when it holds nan or inf."""
        m = magnitude(grad)
        if not math.isfinite(m):
            return None
        return bisect.bisect_right(self.edges, m)

    def colors(self, grad):
        """(fillcolor, fontcolor) for a node with this gradient; white when grad is None."""
        if grad is None:
            return "white", "black"
        b = self.bin(grad)
        if b is None:
            return NONFINITE, "white"
        return PALETTE[b], ("white" if b < DARK_BINS else "black")

    def names(self):
        """The legend's text for each bin."""
        if self.kind == "fixed":
            return BIN_NAMES
        e = [number(x) for x in self.edges]
        return (f"< {e[0]}", *(f"{a} .. {b}" for a, b in zip(e, e[1:])), f">= {e[-1]}")


FIXED = Scale(BIN_EDGES, "fixed")


def relative_scale(grads):
    """The Scale whose 7 bins split the log10 range of these gradients' magnitudes."""
    ms = [m for m in (magnitude(g) for g in grads) if m > 0 and math.isfinite(m)]
    if not ms:
        return FIXED
    lo, hi = math.log10(min(ms)), math.log10(max(ms))
    if hi - lo < 1e-9:                       # one size only: decades around it
        lo, hi = lo - 3.5, lo + 3.5
    return Scale([10 ** (lo + (hi - lo) * i / 7) for i in range(1, 7)], "relative")


def make_scale(color, grads, where):
    """The Scale for color='relative' or 'fixed' over the gradients a drawing shows."""
    if color == "relative":
        return relative_scale(grads)
    if color == "fixed":
        return FIXED
    raise ValueError(f"{where}: color must be 'relative' (bins spread over this graph's "
                     f"gradients) or 'fixed' (the same decades in every drawing), got {color!r}")


def magnitude(grad):
    """max |grad|, the number the colour scale bins (0 for an empty gradient)."""
    grad = np.asarray(grad)
    return float(np.max(np.abs(grad))) if grad.size else 0.0


def grad_bin(grad):
    """The fixed scale's bin of a gradient (index into PALETTE); None for nan or inf."""
    return FIXED.bin(grad)


def grad_colors(grad):
    """(fillcolor, fontcolor) on the fixed scale; white when grad is None."""
    return FIXED.colors(grad)


def number(x):
    """One number in 4 significant digits; integers and booleans as they are."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.4g}"


def values(a):
    """Compact nested-list text of a small array: `-6`, `[1, 2]`, `[[1, 2], [3, 4]]`."""
    a = np.asarray(a)
    if a.ndim == 0:
        return number(a.item())
    return "[" + ", ".join(values(row) for row in a) + "]"


def summary(a):
    """`norm 12.3 min -1 max 4` for a large array (min/max left out for booleans)."""
    a = np.asarray(a)
    if a.size == 0:
        return "empty"
    if a.dtype.kind == "b":
        return f"{int(a.sum())} true of {a.size}"
    f = a.astype(np.float64, copy=False)
    return f"norm {number(np.sqrt(np.sum(f * f)))} min {number(f.min())} max {number(f.max())}"


def compact(a):
    """Values when small, else a summary."""
    a = np.asarray(a)
    return values(a) if a.size <= SMALL else summary(a)


def brief(a):
    """Values when small, else just the norm: short enough for an edge label."""
    a = np.asarray(a)
    if a.size <= SMALL:
        return values(a)
    f = a.astype(np.float64, copy=False)
    return "norm " + number(np.sqrt(np.sum(f * f)))


def exact(a):
    """Full-precision text for tooltips: every value when small, else the summary."""
    a = np.asarray(a)
    return repr(a.tolist()) if a.size <= SMALL else summary(a)


def shape_text(shape):
    return "scalar" if len(shape) == 0 else str(tuple(int(n) for n in shape))


def legend_label(scale=None):
    """An HTML-like label: the colour scale as a one-column table (narrow beside a drawing
    that runs top to bottom)."""
    scale = scale or FIXED
    rows = "".join(f'<tr><td bgcolor="{c}"><font color="{"white" if i < DARK_BINS else "black"}"'
                   f' point-size="9">{html.escape(n)}</font></td></tr>'
                   for i, (c, n) in enumerate(zip(PALETTE, scale.names())))
    rows += (f'<tr><td bgcolor="{NONFINITE}"><font color="white" point-size="9">nan/inf</font>'
             f'</td></tr>')
    return (f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
            f'<tr><td border="0"><font point-size="9">max |grad|</font></td></tr>{rows}'
            f'</table>>')


def wrap(text, width=100):
    """Long caption lines (a formula over big values) broken before ' = ' and '; ', so a
    title does not stretch the drawing wider than its graph."""
    out = []
    for line in text.split("\n"):
        while len(line) > width:
            cut = max(line.rfind(" = ", 0, width), line.rfind(" @ ", 0, width),
                      line.rfind(" * ", 0, width))
            if cut <= 0:
                break
            out.append(line[:cut])
            line = "    " + line[cut + 1:]
        out.append(line)
    return "\n".join(out)


def dot_label(lines):
    # Escape each line (backslashes, <...> would start an HTML label), join with DOT newlines.
    from graphviz import escape, nohtml
    return nohtml("\\n".join(escape(str(line)) for line in lines))


def dot_text(text):
    """Text for a tooltip or title: literal backslashes, newlines as DOT newlines."""
    from graphviz import escape, nohtml
    return nohtml(escape(str(text)).replace("\n", "\\n"))
