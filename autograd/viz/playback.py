"""Stepping through the backward pass: a Jupyter slider, or one self-contained HTML file.

Frame k is draw_backward(root, step=k), for k = 0 (the forward graph) to the number of steps;
the last frame is draw_backward(root). The players pin every node's size (steady=True) so that
all frames share one layout and nothing moves while stepping. Frames are rendered to SVG by
viz.render (system dot, else graphviz-pure), several at a time. The HTML player inlines every
frame and a few lines of plain JavaScript (buttons, a range slider, the arrow keys, a step
counter): no network, no libraries, any browser. A player keeps every frame, so it is meant
for graphs of up to a few hundred steps (max_frames); for bigger ones draw single steps with
draw_backward(step=k).
"""
import hashlib
import html
import json
import os
import pathlib
import re
from concurrent.futures import ThreadPoolExecutor

from gradspace.autograd.viz.draw import backward_frame, backward_trace, check_direction
from gradspace.autograd.viz.rendering import render
from gradspace.autograd.viz.style import GHOST_CLASS
from gradspace.autograd.viz.trace import state_after

MAX_FRAMES = 200
WORKERS = min(8, os.cpu_count() or 1)              # renderer processes at a time


def backward_frames(root, params=None, gradient=None, show_data=True, rankdir="TB",
                    legend=True, max_frames=MAX_FRAMES, steady=False, direction="forward",
                    color="relative"):
    """[draw_backward(root, step=k) for k in 0..steps], tracing the backward pass only once.

    steady=True pins every node to the largest size it takes in any frame and gives every
    edge its final label, invisible until used (see draw.build): every frame then has the
    same layout and nothing moves between steps. It costs one extra layout per frame. The
    frames say the same; the last one's DOT is draw_backward(root)'s plus the pinned sizes.
    """
    graph, steps = backward_trace(root, params, gradient, "player")
    if len(steps) + 1 > max_frames:
        raise ValueError(f"player: this backward pass has {len(steps)} steps, more frames than "
                         f"max_frames={max_frames}; pass a larger max_frames, or draw single "
                         f"steps with draw_backward(root, step=k)")
    check_direction(direction, "player")
    options = {"show_data": show_data, "rankdir": rankdir, "legend": legend,
               "direction": direction, "color": color}
    frames = [backward_frame(graph, steps, k, **options) for k in range(len(steps) + 1)]
    if not steady:
        return frames
    sizes = {}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for found in pool.map(node_sizes, frames):
            for key, (w, h) in found.items():
                w0, h0 = sizes.get(key, (0.0, 0.0))
                sizes[key] = (max(w0, w), max(h0, h))
    pinned = ({k: (f"{w:.4f}", f"{h:.4f}") for k, (w, h) in sizes.items()},
              state_after(graph, steps, len(steps)))
    return [backward_frame(graph, steps, k, steady=pinned, **options)
            for k in range(len(steps) + 1)]


def node_sizes(drawing):
    """{node id: (width, height)} in inches, as the renderer lays `drawing` out."""
    layout = json.loads(render(drawing, "json"))
    return {o["name"]: (float(o["width"]), float(o["height"]))
            for o in layout.get("objects", ()) if "width" in o and "height" in o}


def frame_svgs(frames):
    """Each frame rendered to SVG markup ready to inline in HTML (no XML prolog), the text
    of labels reserved for later steps removed (strip_ghosts)."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return [strip_ghosts(_inline(svg))
                for svg in pool.map(lambda f: render(f, "svg"), frames)]


# An edge group of the SVG whose class names the ghost class (dot escapes its "-" as &#45;).
_GHOST = re.compile(r'(<g id="[^"]*" class="edge '
                    + GHOST_CLASS.replace("-", "(?:-|&#45;)") + r'">)(.*?)(</g>)', re.DOTALL)
_TEXT = re.compile(r"<text\b[^>]*>.*?</text>\s*", flags=re.DOTALL)


def strip_ghosts(svg):
    """Remove the text of edge labels that are laid out but not yet shown (draw.build's
    steady mode): every renderer then draws nothing there. Only fontcolor "transparent"
    would not do: system Graphviz 2.43 writes it as visible near-white text, which covers
    the edges it crosses and reads as text to screen readers and searches."""
    return _GHOST.sub(lambda m: m.group(1) + _TEXT.sub("", m.group(2)) + m.group(3), svg)


def _inline(svg):
    # An XML declaration or DOCTYPE is not allowed inside an HTML body: keep from <svg on.
    return svg[svg.index("<svg"):] if "<svg" in svg else svg


def player_html(root, title="Backpropagation, step by step", **options):
    """The HTML text of the player (see save_player); options go to backward_frames."""
    frames = backward_frames(root, steady=True, **options)
    svgs = frame_svgs(frames)
    uid = "gs" + hashlib.sha1("".join(svgs).encode("utf-8")).hexdigest()[:10]  # reproducible
    divs = "\n".join(
        f'<div class="frame" data-caption="{html.escape(f.caption)}"{"" if k == 0 else " hidden"}>'
        f"\n{svg}\n</div>" for k, (f, svg) in enumerate(zip(frames, svgs)))
    last = len(frames) - 1
    return _PAGE.format(title=html.escape(title), uid=uid, last=last, frames=divs,
                        script=_SCRIPT.replace("UID", uid))


def save_player(root, path, **options):
    """Write the backward pass of `root` as one self-contained HTML file; returns the path.

    Next/previous buttons, a slider, the left/right arrow keys (Home/End for the ends) and a
    step counter; frame k is draw_backward(root, step=k). options: params, gradient,
    show_data, rankdir, legend, max_frames, title, direction, color.
    """
    path = pathlib.Path(path)
    text = player_html(root, **options)            # render everything before opening the file
    path.write_text(text, encoding="utf-8")
    return path


def player(root, **options):
    """A Jupyter widget stepping through the backward pass of `root` with a slider.

    Needs ipywidgets (pip install "gradspace[notebook]"); without it, in IPython, it returns
    the HTML player of save_player for display instead.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        try:
            from IPython.display import HTML
        except ImportError:
            raise ImportError("player: the slider needs ipywidgets in Jupyter (pip install "
                              "'gradspace[notebook]'); outside a notebook, "
                              "save_player(root, 'backprop.html') writes the same steps as one "
                              "HTML file for any browser") from None
        return HTML(player_html(root, **options))
    options.pop("title", None)
    frames = backward_frames(root, steady=True, **options)
    svgs = frame_svgs(frames)
    last = len(frames) - 1
    slider = widgets.IntSlider(value=0, min=0, max=last, description="step")
    play = widgets.Play(value=0, min=0, max=last, interval=900, description="play")
    widgets.jslink((play, "value"), (slider, "value"))
    caption = widgets.HTML(_caption_html(frames[0].caption))
    view = widgets.HTML(svgs[0])

    def show(change):
        view.value = svgs[change["new"]]
        caption.value = _caption_html(frames[change["new"]].caption)

    slider.observe(show, names="value")
    return widgets.VBox([widgets.HBox([play, slider]), caption, view])


def _caption_html(caption):
    # one line per formula: the caption's newlines kept
    return f'<div style="white-space: pre-line">{html.escape(caption)}</div>'


# The buttons' glyphs (U+21E4, U+25C0, U+25B6, U+21E5) are in DejaVu Sans, which Linux browsers
# have; the media-control glyphs U+23EE/U+23ED are in none of their fonts and showed as boxes.
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
  body {{ font-family: "DejaVu Sans", Verdana, Arial, sans-serif; margin: 1.5em; }}
  .controls {{ display: flex; gap: 0.5em; align-items: center; flex-wrap: wrap; }}
  .controls button {{ font-size: 1em; padding: 0.2em 0.8em; }}
  .counter {{ font-variant-numeric: tabular-nums; min-width: 9em; }}
  .caption {{ color: #444; margin: 0.6em 0; min-height: 1.3em; white-space: pre-line; }}
  .frame svg {{ max-width: 100%; height: auto; }}
</style>
</head>
<body>
<div id="{uid}" class="gs-player">
<h2>{title}</h2>
<div class="controls">
  <button type="button" class="first" title="first step (Home)">&#x21E4; first</button>
  <button type="button" class="prev" title="previous step (left arrow)">&#x25C0; prev</button>
  <button type="button" class="next" title="next step (right arrow)">next &#x25B6;</button>
  <button type="button" class="last" title="last step (End)">last &#x21E5;</button>
  <input type="range" class="slider" min="0" max="{last}" value="0" aria-label="step">
  <span class="counter">step 0 of {last}</span>
</div>
<p class="caption"></p>
{frames}
</div>
<script>
{script}
</script>
</body>
</html>
"""

_SCRIPT = """(function () {
  var root = document.getElementById("UID");
  var frames = root.querySelectorAll(".frame");
  var slider = root.querySelector(".slider");
  var counter = root.querySelector(".counter");
  var caption = root.querySelector(".caption");
  var last = frames.length - 1, k = 0;
  function show(i) {
    k = Math.max(0, Math.min(last, i));
    for (var j = 0; j <= last; j++) { frames[j].hidden = (j !== k); }
    slider.value = k;
    counter.textContent = "step " + k + " of " + last;
    caption.textContent = frames[k].getAttribute("data-caption");
  }
  root.querySelector(".first").onclick = function () { show(0); };
  root.querySelector(".prev").onclick = function () { show(k - 1); };
  root.querySelector(".next").onclick = function () { show(k + 1); };
  root.querySelector(".last").onclick = function () { show(last); };
  slider.oninput = function () { show(parseInt(slider.value, 10)); };
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") { show(k + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { show(k - 1); e.preventDefault(); }
    else if (e.key === "Home") { show(0); e.preventDefault(); }
    else if (e.key === "End") { show(last); e.preventDefault(); }
  });
  show(0);
})();"""
