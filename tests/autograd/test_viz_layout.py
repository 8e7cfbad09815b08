"""Legible at page size: the drawings of a model are not strips, every label fits its box in
the font a Linux browser has (DejaVu Sans), the legend is whole, and draw_backward can point
its arrows the way gradients flow. Each test runs under both renderers (see conftest)."""
import struct

import numpy as np
import pytest
from viz_helpers import edges, micrograd, nodes, overflowing_texts, text_width

from gradspace import nn
from gradspace.autograd import Tensor, viz


def charlm():
    from gradspace.train.recipes import charlm
    model = charlm.build_model(charlm.Config(block_size=3, emb_dim=2, hidden=4),
                               list("abcdefghij"))
    ids = Tensor(np.array([[1, 2, 3], [4, 5, 6]]))
    return model, nn.functional.cross_entropy(model(ids), np.array([1, 2]))


def mlp_241():
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    x = Tensor(np.array([[0.5, -1.0]], np.float32), name="x")
    return model, ((model(x) - 1.0) ** 2).mean()


def png_size(drawing):
    png = viz.render(drawing, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])              # the IHDR chunk: width, height


@pytest.mark.parametrize("make", [charlm, mlp_241])
def test_a_model_drawing_is_no_wider_than_three_times_its_height(renderer, make):
    model, loss = make()
    for drawing in (viz.draw_graph(loss, params=model), viz.draw_graph(loss),
                    viz.draw_backward(loss, params=model)):
        width, height = png_size(drawing)
        assert width <= 3 * height, (width, height)


def test_the_font_is_one_a_linux_browser_has_and_the_check_can_fail():
    source = viz.draw_graph(micrograd()["L"]).source
    assert 'fontname="DejaVu Sans"' in source
    # the measure is real: a longer text is wider, and a box made for Times metrics
    # (narrower than DejaVu Sans) would overflow
    assert text_width("data [[-0.2611, 0.9739]]", 11) > text_width("data [[-0.26]]", 11) > 50
    def one_box(left, right):
        return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 50">'
                '<g class="graph" transform="scale(1 1) rotate(0) translate(4 46)">'
                f'<g class="node"><polygon fill="white" points="{left},-40 {right},-40 '
                f'{right},0 {left},0 {left},-40"/><text text-anchor="middle" '
                f'x="{(left + right) / 2}" y="-16" font-size="11">data [[-0.2611, 0.9739]]'
                '</text></g></g></svg>')

    assert [t for t, _ in overflowing_texts(one_box(100, 160))] == ["data [[-0.2611, 0.9739]]"]
    assert overflowing_texts(one_box(60, 200)) == []


def test_labels_fit_their_boxes_and_the_legend_is_whole(renderer):
    model, loss = charlm()
    mlp, mlp_loss = mlp_241()
    L = micrograd()["L"]
    drawings = [viz.draw_graph(L), viz.draw_backward(L, step=4),
                viz.draw_backward(L, direction="backward"),
                viz.draw_graph(loss, params=model), viz.draw_graph(loss, params=model,
                                                                  collapse=True),
                viz.draw_backward(mlp_loss, params=mlp)]
    for drawing in drawings:
        svg = viz.render(drawing, "svg")
        assert overflowing_texts(svg) == []
        assert ">nan/inf<" in svg and ">max |grad|<" in svg     # the legend's two ends


def test_direction_backward_points_the_arrows_the_way_gradients_flow(renderer):
    import re
    L = micrograd()["L"]
    forward, backward = viz.draw_backward(L), viz.draw_backward(L, direction="backward")
    # the same nodes and edges; only the arrowheads and the reading order turn around
    assert edges(forward.source) == edges(backward.source)
    assert nodes(forward.source) == nodes(backward.source)
    assert "rankdir=TB" in forward.source and "rankdir=BT" in backward.source
    assert "dir=back" in backward.source and "dir=back" not in forward.source

    def rows(svg):
        """{tensor name: y of its label} (SVG y grows downwards)."""
        return {m.group(2).split()[0 if not m.group(2).startswith("#") else 1]: float(m.group(1))
                for m in re.finditer(r'<text[^>]* y="([-\d.]+)"[^>]*>(#?\d* ?\w+ scalar)</text>',
                                     svg)}

    down, up = rows(viz.render(forward, "svg")), rows(viz.render(backward, "svg"))
    assert down["a"] < down["L"]                  # forward: leaves on top, the loss below
    assert up["L"] < up["a"] and up["L"] < up["f"]  # backward: the loss on top, arrows down


def test_an_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="direction must be 'forward'.*got 'up'"):
        viz.draw_backward(micrograd()["L"], direction="up")
