"""The player: frames are draw_backward(step=k), the HTML file is self-contained, the Jupyter
slider shows the frame it points at."""
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from viz_helpers import edges, micrograd, nodes, svg_texts

from gradspace.autograd import viz
from gradspace.autograd.viz import playback


class Page(HTMLParser):
    """The frames' attributes, the scripts' text, and any tag that would load something."""

    def __init__(self):
        super().__init__()
        self.frames, self.scripts, self.external = [], [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("class") == "frame":
            self.frames.append(attrs)
        if "src" in attrs or (tag == "link" and "href" in attrs):
            self.external.append((tag, attrs))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def test_frames_are_draw_backward_at_each_step_and_the_last_is_draw_backward():
    L = micrograd()["L"]
    frames = viz.backward_frames(L)
    assert len(frames) == len(viz.trace_backward(L)) + 1
    for k, frame in enumerate(frames):
        assert frame.source == viz.draw_backward(L, step=k).source
    assert frames[-1].source == viz.draw_backward(L).source


def node_shapes(svg):
    """{node id: the geometry of its outline} from an SVG made by dot."""
    found = {}
    for m in re.finditer(r'<g id="node\d+" class="node">\s*<title>(\w+)</title>(.*?)</g>',
                         svg, flags=re.DOTALL):
        outline = re.search(r'(?:points|d|cx)="([^"]+)"', m.group(2))
        found[m.group(1)] = outline.group(1)
    return found


def untitled(svg, caption):
    """The texts of a drawing but its title (the caption, which a steady frame leaves to the
    player's page: a title's width would move the layout between frames)."""
    texts = svg_texts(svg)
    lines = viz.style.wrap(caption).split("\n")
    assert texts[:len(lines)] == lines
    return texts[len(lines):]


def test_steady_frames_keep_every_node_in_place_and_say_the_same(renderer):
    L = micrograd()["L"]
    frames = viz.backward_frames(L, steady=True)
    shapes = [node_shapes(svg) for svg in playback.frame_svgs(frames)]
    assert len(shapes[-1]) == 11                  # 7 tensors, 3 operations, the legend
    for k, frame in enumerate(shapes[:-1]):
        assert frame == shapes[-1], k
    # the same words as draw_backward: only the pinned sizes and invisible labels differ
    def unpinned(source):
        return {key: {k: v for k, v in a.items() if k not in ("width", "height", "fixedsize")}
                for key, a in nodes(source).items()}

    last = viz.draw_backward(L).source
    assert unpinned(frames[-1].source) == unpinned(last)
    assert edges(frames[-1].source) == edges(last)
    for k, frame in enumerate(frames):
        assert svg_texts(playback.frame_svgs([frame])[0]) == \
            untitled(viz.render(viz.draw_backward(L, step=k), "svg"), frame.caption)
    # without pinning, the forward graph's smaller labels give another layout
    assert node_shapes(viz.render(viz.draw_backward(L, step=0), "svg")) != shapes[-1]


def test_labels_reserved_for_later_steps_leave_no_text_in_the_svg(renderer):
    # System dot 2.43 writes fontcolor "transparent" as visible near-white text: the player
    # removes the text of labels not shown yet, whatever the renderer does with the colour.
    L = micrograd()["L"]
    frames = viz.backward_frames(L, steady=True)
    svgs = playback.frame_svgs(frames)
    first = ET.fromstring(svgs[0].encode("utf-8"))
    ns = "{http://www.w3.org/2000/svg}"
    ghosts = [g for g in first.iter(ns + "g") if "gs-ghost" in (g.get("class") or "")]
    assert len(ghosts) == 9                       # every edge: none has carried a gradient
    assert all(not list(g.iter(ns + "text")) for g in ghosts)
    # the last frame has no ghost left: every edge label is a real, visible gradient
    assert "gs-ghost" not in svgs[-1] and "gs&#45;ghost" not in svgs[-1]
    assert "transparent\">" not in svgs[-1]


def test_the_html_player_is_one_self_contained_file(tmp_path):
    L = micrograd()["L"]
    path = viz.save_player(L, tmp_path / "backprop.html")
    text = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    assert len(page.frames) == 8
    assert page.external == [] and "<link" not in text
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?https?:", text)
    svgs = re.findall(r"<svg.*?</svg>", text, flags=re.DOTALL)
    assert len(svgs) == 8
    # the last frame is the rendering of draw_backward(L); the first shows no gradient yet
    last = viz.draw_backward(L)
    assert svg_texts(svgs[-1]) == untitled(viz.render(last, "svg"), last.caption)
    assert not any(t.startswith("#") for t in svg_texts(svgs[0]))
    assert [("hidden" in f) for f in page.frames] == [False] + [True] * 7
    assert page.frames[3]["data-caption"].startswith("backward step 3 of 7")
    script = "".join(page.scripts)
    for needed in ("ArrowRight", "ArrowLeft", ".next", ".prev", "counter.textContent"):
        assert needed in script
    assert 'class="counter">step 0 of 7<' in text


# A stand-in for the few DOM calls the player makes, to run its script in Node.js.
FAKE_DOM = """
const frames = Array.from({length: N}, (_, i) => ({hidden: false,
  getAttribute: (name) => name === "data-caption" ? "caption " + i : null}));
const parts = {};
for (const s of [".slider", ".counter", ".caption", ".first", ".prev", ".next", ".last"]) {
  parts[s] = {textContent: "", value: "0"};
}
const root = {querySelectorAll: () => frames, querySelector: (s) => parts[s]};
let keydown = null;
globalThis.document = {getElementById: (id) => id === UID ? root : null,
  addEventListener: (type, f) => { if (type === "keydown") keydown = f; }};
const key = (k) => keydown({key: k, preventDefault() {}});
const log = [];
const seen = () => log.push([frames.findIndex(f => !f.hidden),
  frames.filter(f => !f.hidden).length, parts[".counter"].textContent,
  parts[".caption"].textContent]);
"""
ACTIONS = """
seen();
parts[".next"].onclick(); parts[".next"].onclick(); seen();
key("ArrowLeft"); seen();
key("End"); seen();
key("ArrowRight"); seen();
parts[".first"].onclick(); parts[".prev"].onclick(); seen();
parts[".slider"].value = "3"; parts[".slider"].oninput(); seen();
key("ArrowRight"); seen();
console.log(JSON.stringify(log));
"""


def test_the_html_players_script_steps_through_the_frames(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    text = viz.player_html(micrograd()["L"])
    uid = re.search(r'<div id="(\w+)" class="gs-player">', text).group(1)
    script = re.search(r"<script>(.*?)</script>", text, flags=re.DOTALL).group(1)
    program = tmp_path / "player.js"
    program.write_text(FAKE_DOM.replace("N}", "8}").replace("UID", json.dumps(uid))
                       + script + ACTIONS)
    out = subprocess.run([node, str(program)], capture_output=True, text=True, timeout=60,
                         check=True)
    expected = [(k, 1, f"step {k} of 7", f"caption {k}") for k in (0, 2, 1, 7, 7, 0, 3, 4)]
    assert [tuple(row) for row in json.loads(out.stdout)] == expected


def test_a_player_refuses_more_frames_than_it_should_hold():
    L = micrograd()["L"]
    with pytest.raises(ValueError, match="7 steps, more frames than max_frames=5"):
        viz.backward_frames(L, max_frames=5)


def test_the_jupyter_player_shows_the_frame_the_slider_points_at():
    pytest.importorskip("ipywidgets")             # the notebook extra
    L = micrograd()["L"]
    box = viz.player(L)
    controls, caption, view = box.children
    _play, slider = controls.children
    assert (slider.min, slider.max, slider.value) == (0, 7, 0)
    expected = playback.frame_svgs(viz.backward_frames(L, steady=True))
    assert view.value == expected[0]
    slider.value = 5
    assert view.value == expected[5]
    assert "backward step 5 of 7" in caption.value


def test_without_ipywidgets_the_player_falls_back_to_the_html_one(monkeypatch):
    pytest.importorskip("IPython")
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    shown = viz.player(micrograd()["L"])
    assert type(shown).__name__ == "HTML" and "ArrowRight" in shown.data


def test_without_jupyter_at_all_the_error_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    with pytest.raises(ImportError, match=r"ipywidgets.*save_player"):
        viz.player(micrograd()["L"])
