"""Rendering without a system Graphviz: graphviz-pure makes SVG and PNG; errors say what to
install; a drawing displays itself in a notebook through the same renderer."""
import shutil
import stat
import sys

import pytest
from viz_helpers import micrograd, svg_texts

from gradspace.autograd import viz
from gradspace.autograd.viz import rendering as render_module

real_which = shutil.which


@pytest.fixture
def no_system_dot(monkeypatch):
    """A machine without system Graphviz: `dot` is not found, graphviz-pure still is."""
    monkeypatch.setattr(render_module.shutil, "which",
                        lambda name, **kw: None if name == "dot" else real_which(name, **kw))


@pytest.fixture
def no_renderer(monkeypatch):
    monkeypatch.setattr(render_module.shutil, "which", lambda name, **kw: None)


def test_without_system_dot_graphviz_pure_is_used(no_system_dot):
    name, path = viz.find_renderer()
    assert name == "graphviz-pure" and path


def test_svg_without_system_dot_parses_and_names_every_tensor(no_system_dot, tmp_path):
    drawing = viz.draw_graph(micrograd()["L"])
    svg = viz.render(drawing, "svg")
    texts = svg_texts(svg)
    for name in "abcdefL":
        assert any(t.split()[0] == name for t in texts if t.strip()), name
    assert "#35b779" in svg                       # the colour of |grad| in 1..10 made it in
    path = viz.save(drawing, tmp_path / "g.svg")
    assert svg_texts(path.read_text()) == texts


def test_png_without_system_dot(no_system_dot, tmp_path):
    path = viz.save(viz.draw_backward(micrograd()["L"], step=2), tmp_path / "g.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_the_system_dot_is_preferred_when_it_is_on_path(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text(f"#!{sys.executable}\n"
                    "import sys\n"
                    "if sys.argv[1] == '-T?':\n"
                    "    sys.stderr.write('Format: \"?\" not recognized. Use one of: svg:cairo "
                    "png:cairo pdf:cairo')\n"
                    "    sys.exit(1)\n"
                    "sys.stdin.read()\n"
                    "sys.stdout.write('<svg>from the fake system dot</svg>')\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{__import__('os').environ['PATH']}")
    render_module.renderer_formats.cache_clear()
    assert viz.find_renderer() == ("dot", str(fake))
    assert viz.render(viz.draw_graph(micrograd()["L"]), "svg") == \
        "<svg>from the fake system dot</svg>"
    with pytest.raises(RuntimeError, match="cannot make 'gif'"):
        viz.render("digraph {}", "gif")


def test_no_renderer_says_what_was_tried_and_what_to_install(no_renderer, tmp_path):
    drawing = viz.draw_graph(micrograd()["L"])
    with pytest.raises(RuntimeError) as info:
        viz.save(drawing, tmp_path / "g.svg")
    message = str(info.value)
    assert "`dot`" in message and "graphviz-pure" in message
    assert "pip install graphviz-pure" in message and "apt install graphviz" in message
    assert not (tmp_path / "g.svg").exists()
    dot = viz.save(drawing, tmp_path / "g.dot")   # DOT needs no renderer
    assert dot.read_text() == drawing.source


def test_a_format_graphviz_pure_cannot_make_names_it_and_what_to_install(no_system_dot,
                                                                           tmp_path):
    with pytest.raises(RuntimeError) as info:
        viz.save(viz.draw_graph(micrograd()["L"]), tmp_path / "g.pdf")
    message = str(info.value)
    assert "graphviz-pure" in message and "'pdf'" in message
    assert "svg, png, jpg" in message and "install the system Graphviz" in message
    assert not (tmp_path / "g.pdf").exists()


def test_an_unknown_suffix_lists_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.jpg, \.jpeg, \.dot"):
        viz.save(viz.draw_graph(micrograd()["L"]), tmp_path / "g.bmp")
    assert not (tmp_path / "g.bmp").exists()


def test_a_drawing_displays_inline_through_our_renderer(no_system_dot):
    drawing = viz.draw_graph(micrograd()["L"])
    bundle = drawing._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    assert svg_texts(bundle["image/svg+xml"]) == svg_texts(viz.render(drawing, "svg"))
    assert drawing._repr_svg_() == bundle["image/svg+xml"]


def test_inline_display_without_any_renderer_shows_why_and_the_source(no_renderer):
    drawing = viz.draw_graph(micrograd()["L"])
    bundle = drawing._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "no Graphviz renderer" in bundle["text/plain"]
    assert drawing.source in bundle["text/plain"]
