"""Colour that informs: by default the 7 colours spread over the graph's own range of
gradient sizes, so a vanishing gradient through a deep sigmoid stack darkens layer by layer;
the fixed decades stay an option (color="fixed")."""
import numpy as np
import pytest
from viz_helpers import by_name, engine_values, micrograd, nodes

from gradspace import nn
from gradspace.autograd import Tensor, viz
from gradspace.autograd.viz import style


def test_the_relative_scale_spans_micrograd_s_gradients_end_to_end():
    drawn = by_name(viz.draw_graph(micrograd()["L"]).source)
    values = engine_values()                          # {name: (value, gradient)}
    size = {name: abs(grad) for name, (_, grad) in values.items()}
    colour = {name: viz.PALETTE.index(drawn[name]["fillcolor"]) for name in size}
    smallest, largest = min(size, key=size.get), max(size, key=size.get)
    assert colour[smallest] == 0 and colour[largest] == 6     # both ends of the palette
    for p in size:                                     # larger gradient, later colour
        for q in size:
            if size[p] < size[q]:
                assert colour[p] <= colour[q], (p, q)
    # the legend gives this graph's ranges: 7 bins of log10 from 1 (L's) to 6 (a's)
    legend = nodes(viz.draw_graph(micrograd()["L"]).source)["legend"]["label"]
    top = 10 ** (np.log10(size[largest] / size[smallest]) * 6 / 7) * size[smallest]
    assert f"&gt;= {top:.4g}<" in legend


def test_relative_bins_split_the_log_range_in_seven():
    scale = style.relative_scale([np.array([1e-8]), np.array([-1e-1, 0.0]), np.array(0.0)])
    assert np.allclose(np.log10(scale.edges), -8 + 7 * np.arange(1, 7) / 7)
    assert scale.bin(np.array(0.0)) == 0 and scale.bin(np.array(1e-8)) == 0
    assert scale.bin(np.array(0.1)) == 6 and scale.bin(np.array([np.nan])) is None
    one = style.relative_scale([np.array(2.0)])        # one size: decades around it
    assert one.bin(np.array(2.0)) == 3


def sigmoid_stack(depth=8):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(4, 4), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    x = Tensor(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32), name="x")
    return model, (model(x) ** 2).mean()


def layer_colours(model, loss, color):
    found = nodes(viz.draw_graph(loss, params=model, collapse=True, color=color).source)
    by_layer = {a["label"].split(" ")[0]: a["fillcolor"] for a in found.values()
                if a.get("shape") == "box3d" and "(Linear)" in a["label"]}
    return [viz.PALETTE.index(by_layer[str(i)]) for i in range(0, 2 * 8, 2)]


def test_a_vanishing_gradient_through_a_sigmoid_stack_darkens_layer_by_layer():
    model, loss = sigmoid_stack()
    relative = layer_colours(model, loss, "relative")
    fixed = layer_colours(model, loss, "fixed")
    loss.backward()
    sizes = [max(np.abs(model[i].weight.grad.data).max(), np.abs(model[i].bias.grad.data).max())
             for i in range(0, 16, 2)]
    assert all(a < b for a, b in zip(sizes, sizes[1:]))  # it does vanish towards the input
    assert relative == sorted(relative)                  # darker towards the input
    assert relative[0] == 0 and relative[-1] >= 5
    # the relative scale tells the layers apart where the fixed one lumps them together
    assert len(set(relative)) >= 6 and len(set(relative)) > len(set(fixed))


def test_an_unknown_colour_scale_is_refused():
    with pytest.raises(ValueError, match="color must be 'relative'.*got 'rainbow'"):
        viz.draw_graph(micrograd()["L"], color="rainbow")
    with pytest.raises(ValueError, match="draw_backward: color must be"):
        viz.draw_backward(micrograd()["L"], color="rainbow")
