"""Big graphs stay drawable: a 2,000-operation chain and a 30-layer MLP build and render in
seconds through graphviz-pure. Measured on the 2-core dev machine (graphviz-pure 0.2.2):

    2,000-op chain (5,000 nodes)        DOT 0.4 s   SVG 0.9 s
    30-layer MLP, module boxes (~370)   DOT 0.05 s  SVG 0.1 s   (PNG of that: ~6 s, 43,000 pt wide)
    30-layer MLP, collapse=True (~100)  DOT 0.05 s  SVG 0.05 s

No timing is asserted (machines here are noisy). What the tests guard is the graph attribute
that keeps layout bounded: without nslimit, graphviz-pure took minutes for 300 nodes.
"""
import struct

import numpy as np
import pytest

from gradspace import nn
from gradspace.autograd import Tensor, viz
from gradspace.autograd.viz import rendering


@pytest.fixture(autouse=True)
def no_system_dot(monkeypatch):
    real = rendering.shutil.which
    monkeypatch.setattr(rendering.shutil, "which",
                        lambda name, **kw: None if name == "dot" else real(name, **kw))


def test_a_2000_operation_chain_draws_and_renders_in_seconds():
    x = Tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(1000):
        y = (y * 1.0001).tanh()
    drawing = viz.draw_graph(y)
    assert drawing.source.count(" [label=") > 4000
    svg = viz.render(drawing, "svg")
    assert svg.count('class="node"') > 4000
    assert "nslimit" in drawing.source                         # the layout stays bounded


def test_a_long_chain_as_png_is_scaled_to_a_bitmap_that_fits():
    x = Tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(200):
        y = (y * 1.0001).tanh()
    png = viz.render(viz.draw_graph(y, show_data=False), "png")
    width, height = struct.unpack(">II", png[16:24])      # the IHDR chunk
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    limit = rendering.RASTER_INCHES * 96
    assert limit / 2 < max(width, height) <= limit              # scaled down, not tiny


def mlp(depth=30, width=32):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    model = nn.Sequential(*layers)
    x = Tensor(np.random.default_rng(0).normal(size=(16, width)).astype(np.float32), name="x")
    return model, (model(x) ** 2).mean()


def test_a_30_layer_mlp_renders_boxed_and_collapsed():
    model, loss = mlp()
    boxed = viz.draw_graph(loss, params=model)
    assert boxed.source.count("subgraph cluster_") == 60     # each Linear and each ReLU
    svg = viz.render(boxed, "svg")
    assert svg.count('class="cluster"') == 60
    collapsed = viz.draw_graph(loss, params=model, collapse=True)
    assert collapsed.source.count("shape=box3d") == 60       # one node per layer
    assert collapsed.source.count(" [label=") < boxed.source.count(" [label=") / 2
    assert viz.render(collapsed, "svg").count('class="node"') >= 30
    assert "nslimit" in boxed.source and "nslimit" in collapsed.source
