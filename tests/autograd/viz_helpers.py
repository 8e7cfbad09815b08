"""Reading what a drawing says: DOT source (nodes, edges, clusters) and SVG text.

Tests of autograd.viz read these, never pixels. The DOT parser covers what graphviz's Python
package writes: one statement per line, `id [attrs]`, `a -> b [attrs]`, nested subgraphs.
"""
import re
import xml.etree.ElementTree as ET

import numpy as np

from gradspace.autograd import Tensor

NODE = re.compile(r"^\s*(\w+) \[(.*)\]$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")
ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|<.*>|[^\s\]]+)')
SUBGRAPH = re.compile(r'^\s*subgraph "?(\w+)"? \{$')


def attrs(text):
    found = {}
    for key, value in ATTR.findall(text or ""):
        if value.startswith('"'):
            value = value[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        found[key] = value
    return found


def nodes(source):
    """{node id: attributes} (labels with real newlines)."""
    return {m.group(1): attrs(m.group(2)) for line in source.splitlines()
            if (m := NODE.match(line)) and m.group(1) not in ("graph", "node", "edge")}


def edges(source):
    """[(tail, head, attributes)] in the order the DOT lists them."""
    return [(m.group(1), m.group(2), attrs(m.group(3))) for line in source.splitlines()
            if (m := EDGE.match(line))]


def clusters(source):
    """{cluster label: set of node ids inside it, nested clusters included}."""
    found, stack = {}, []
    for line in source.splitlines():
        if m := SUBGRAPH.match(line):
            stack.append([m.group(1), None, set()])
        elif line.strip() == "}" and stack:
            name, label, members = stack.pop()
            found[label or name] = members
            if stack:
                stack[-1][2] |= members
        elif stack and (m := NODE.match(line)):
            stack[-1][2].add(m.group(1))
        elif stack and stack[-1][1] is None and "label=" in line and "[" not in line:
            stack[-1][1] = attrs(line)["label"]
    return found


def by_name(source):
    """{tensor name: attributes} for nodes whose label starts with a name ("#3 a scalar")."""
    named = {}
    for attributes in nodes(source).values():
        if attributes.get("shape") not in ("box", "box3d"):
            continue                              # operations, numbers, notes, the legend
        head = attributes.get("label", "").split("\n")[0].split()
        if head and head[0].startswith("#"):
            head = head[1:]
        if head and head[0] != "scalar" and re.fullmatch(r"[\w.]+", head[0]):
            named[head[0]] = attributes
    return named


FIELDS = ("grad so far", "data", "grad")          # longest first: "grad" is not "grad so far"


def label_field(attributes, field):
    """The text after `field ` on its label line ("data", "grad", "grad so far")."""
    for line in attributes.get("label", "").split("\n"):
        prefix = next((f for f in FIELDS if line.startswith(f + " ")), None)
        if prefix == field:
            return line[len(field) + 1:]
    return None


def svg_texts(svg):
    """The visible text of every <text> element of an SVG (which must parse as XML)."""
    root = ET.fromstring(svg.encode("utf-8"))
    return ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")
            if el.get("fill") != "transparent"]


def micrograd():
    """micrograd's classic example with names: L = (a*b + c) * f."""
    a = Tensor(2.0, requires_grad=True, name="a")
    b = Tensor(-3.0, requires_grad=True, name="b")
    c = Tensor(10.0, requires_grad=True, name="c")
    e = a * b
    e.name = "e"
    d = e + c
    d.name = "d"
    f = Tensor(-2.0, requires_grad=True, name="f")
    L = d * f
    L.name = "L"
    return {"a": a, "b": b, "c": c, "e": e, "d": d, "f": f, "L": L}


def engine_values():
    """{name: (value, gradient)} from a separate plain L.backward() on a fresh copy; hooks
    capture the gradients of the intermediates, which backward() does not keep."""
    t = micrograd()
    grads = {}
    for name in ("e", "d", "L"):
        t[name].register_hook(lambda g, name=name: grads.__setitem__(name, g.item()))
    t["L"].backward()
    for name in ("a", "b", "c", "f"):
        grads[name] = t[name].grad.item()
    return {name: (t[name].item(), grads[name]) for name in t}


def as_float(text):
    return float(np.float64(text))


SVG_NS = "{http://www.w3.org/2000/svg}"


def _font(size):
    # DejaVu Sans, the drawings' font: matplotlib (a dependency) ships the file, so the
    # metrics are a Linux browser's wherever the tests run
    from matplotlib import font_manager
    from PIL import ImageFont
    return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)


def text_width(text, size):
    """Width of `text` in DejaVu Sans at font size `size` (SVG user units)."""
    return _font(int(size * 20)).getlength(text) / 20


def _numbers(text):
    values = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]
    return list(zip(values[0::2], values[1::2]))


def _outline(el):
    """(kind, x0, y0, x1, y1) of a node's shape: its bounding box; ellipses kept apart."""
    tag = el.tag[len(SVG_NS):]
    if tag == "ellipse":
        cx, cy, rx, ry = (float(el.get(k)) for k in ("cx", "cy", "rx", "ry"))
        return ("ellipse", cx - rx, cy - ry, cx + rx, cy + ry)
    points = _numbers(el.get("points") or el.get("d") or "")
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return ("box", min(xs), min(ys), max(xs), max(ys))


def overflowing_texts(svg, slack=1.0):
    """[(text, by how much)] for every text of a node that sticks out of the smallest shape of
    its node around it, measured in DejaVu Sans; also texts outside the picture's viewBox."""
    root = ET.fromstring(svg.encode("utf-8"))
    x0, y0, w, h = (float(v) for v in root.get("viewBox").split())
    graph = root.find(SVG_NS + "g")
    tx, ty = (float(v) for v in re.search(r"translate\(([-\d.]+)[ ,]([-\d.]+)\)",
                                          graph.get("transform")).groups())
    bad = []
    for g in root.iter(SVG_NS + "g"):
        if g.get("class") not in ("node", "edge", "graph"):
            continue
        shapes = [s for el in g.iter() if el.tag[len(SVG_NS):] in ("polygon", "ellipse", "path")
                  and el.get("fill") != "none" or el.tag == SVG_NS + "ellipse"
                  for s in [_outline(el)] if s] if g.get("class") == "node" else []
        for t in g.iter(SVG_NS + "text"):
            if t.get("fill") == "transparent":
                continue
            text = "".join(t.itertext())
            size, x, y = float(t.get("font-size")), float(t.get("x")), float(t.get("y"))
            width = text_width(text, size)
            left = {"start": x, "end": x - width}.get(t.get("text-anchor"), x - width / 2)
            right = left + width
            mid = y - size * 0.35                         # middle of the line, above baseline
            # inside the picture (the viewBox, in the translated coordinates of the graph)
            if left + tx < x0 - slack or right + tx > x0 + w + slack or mid + ty < y0 \
                    or mid + ty > y0 + h:
                bad.append((text, "outside the picture"))
                continue
            around = [s for s in shapes if s[1] - slack <= x <= s[3] + slack
                      and s[2] <= mid <= s[4]]
            if not around:
                continue                                  # edge labels, plaintext nodes
            kind, sx0, sy0, sx1, sy1 = min(around, key=lambda s: (s[3] - s[1]) * (s[4] - s[2]))
            if kind == "ellipse":                         # the chord at the line's height
                cx, cy, rx, ry = (sx0 + sx1) / 2, (sy0 + sy1) / 2, (sx1 - sx0) / 2, \
                    (sy1 - sy0) / 2
                half = rx * max(0.0, 1 - ((mid - cy) / ry) ** 2) ** 0.5
                sx0, sx1 = cx - half, cx + half
            over = max(sx0 - left, right - sx1)
            if over > slack:
                bad.append((text, round(over, 1)))
    return bad
