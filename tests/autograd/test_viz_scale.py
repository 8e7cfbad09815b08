"""Big graphs stay drawable: a 2,000-operation chain and a 30-layer MLP build and render in
seconds through graphviz-pure. Measured on the 2-core dev machine (graphviz-pure 0.2.2):

    2,000-op chain (5,000 nodes)        DOT 0.4 s   SVG 0.9 s
    30-layer MLP, module boxes (~370)   DOT 0.05 s  SVG 0.1 s   (PNG of that: ~6 s, 43,000 pt wide)
    30-layer MLP, collapse=True (~100)  DOT 0.05 s  SVG 0.05 s

The bounds below are loose on purpose (a slow CI machine must pass); what they catch is the
layout blowing up, as it did (minutes for 300 nodes) before GRAPH_ATTR bounded nslimit.
"""
import struct
import time

import numpy as np
import pytest

import nn
from autograd import Tensor, viz
from autograd.viz import rendering


@pytest.fixture(autouse=True)
def no_system_dot(monkeypatch):
    real = rendering.shutil.which
    monkeypatch.setattr(rendering.shutil, "which",
                        lambda name, **kw: None if name == "dot" else real(name, **kw))


def timed(f):
    start = time.perf_counter()
    result = f()
    return result, time.perf_counter() - start


def test_a_2000_operation_chain_draws_and_renders_in_seconds():
    x = Tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(1000):
        y = (y * 1.0001).tanh()
    drawing, build = timed(lambda: viz.draw_graph(y))
    assert drawing.source.count(" [label=") > 4000
    svg, layout = timed(lambda: viz.render(drawing, "svg"))
    assert svg.count('class="node"') > 4000
    assert build < 10 and layout < 30, (build, layout)


def test_a_long_chain_as_png_is_scaled_to_a_bitmap_that_fits():
    x = Tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(200):
        y = (y * 1.0001).tanh()
    png = viz.render(viz.draw_graph(y, show_data=False), "png")
    width, height = struct.unpack(">II", png[16:24])      # the IHDR chunk
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    limit = rendering.RASTER_INCHES * 96
    assert max(width, height) <= limit and width > limit / 2    # scaled down, not tiny


def mlp(depth=30, width=32):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    model = nn.Sequential(*layers)
    x = Tensor(np.random.default_rng(0).normal(size=(16, width)).astype(np.float32), name="x")
    return model, (model(x) ** 2).mean()


def test_a_30_layer_mlp_renders_boxed_and_collapsed():
    model, loss = mlp()
    boxed, build = timed(lambda: viz.draw_graph(loss, params=model))
    assert boxed.source.count("subgraph cluster_") == 30
    svg, layout = timed(lambda: viz.render(boxed, "svg"))
    assert svg.count('class="cluster"') == 30
    collapsed = viz.draw_graph(loss, params=model, collapse=True)
    assert collapsed.source.count("shape=box3d") == 30       # one node per Linear
    assert collapsed.source.count(" [label=") < boxed.source.count(" [label=") / 3
    _small, small_layout = timed(lambda: viz.render(collapsed, "svg"))
    assert build < 5 and layout < 20 and small_layout < 20, (build, layout, small_layout)
