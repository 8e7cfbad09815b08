"""autograd.viz on micrograd's classic example and friends: the drawing says what the engine
computed, the trace is the engine's order, drawing changes nothing of the user's."""
import re

import numpy as np
import pytest
from viz_helpers import as_float, by_name, edges, engine_values, label_field, micrograd, nodes

from gradspace.autograd import Tensor, viz
from gradspace.autograd.viz import style


@pytest.fixture
def mg():
    return micrograd()


def test_graph_labels_carry_the_engines_values_and_gradients(mg):
    expected = engine_values()
    drawn = by_name(viz.draw_graph(mg["L"]).source)
    assert set(drawn) == set(expected)
    for name, (value, grad) in expected.items():
        label = drawn[name]
        assert as_float(label_field(label, "data")) == value, name
        assert as_float(label_field(label, "grad")) == grad, name
        # the tooltip carries them at full precision
        tip = dict(line.split(" ", 1) for line in label["tooltip"].split("\n"))
        assert float(tip["data"]) == value and float(tip["grad"]) == grad, name


def test_one_node_per_tensor_and_per_operation_with_edges_in_forward_order(mg):
    source = viz.draw_graph(mg["L"]).source
    found = nodes(source)
    assert sorted(a["label"] for a in found.values() if a["shape"] == "ellipse") == \
        ["Add", "Mul", "Mul"]
    tensors = {a["label"].split()[0]: k for k, a in found.items() if a["shape"] == "box"}
    assert sorted(tensors) == sorted(mg)
    listed = edges(source)
    assert len(listed) == 9                       # 6 inputs into 3 ops, 3 ops into results
    for key in tensors.values():                  # a tensor is made before it is used
        made = [i for i, (_, head, _) in enumerate(listed) if head == key]
        used = [i for i, (tail, _, _) in enumerate(listed) if tail == key]
        assert all(m < u for m in made for u in used)


def test_trace_is_the_engines_order_and_a_reverse_topological_order(mg):
    steps = viz.trace_backward(mg["L"])
    assert [s.step for s in steps] == list(range(1, 8))
    position = {id(s.tensor): s.step for s in steps}
    assert len(position) == 7                     # every tensor once
    for s in steps:
        for parent in s.inputs:
            assert position[id(parent)] > s.step  # a tensor comes before its inputs
    assert steps[0].tensor is mg["L"] and steps[0].op == "Mul"
    expected = engine_values()
    for s in steps:
        assert s.grad.item() == expected[s.tensor.name][1]


def test_trace_records_what_each_step_sent_to_each_input(mg):
    expected = engine_values()
    for s in viz.trace_backward(mg["L"]):
        if s.op is None:
            assert s.inputs == () and s.input_grads == ()
            continue
        for parent, sent in zip(s.inputs, s.input_grads):
            assert isinstance(sent, np.ndarray)
            # each input here has one consumer, so what it was sent is its whole gradient
            assert sent.item() == expected[parent.name][1]


def test_tracing_and_drawing_touch_no_grad_and_free_nothing(mg):
    a = mg["a"]
    a.grad = Tensor(100.0)
    viz.trace_backward(mg["L"])
    viz.draw_graph(mg["L"])
    viz.draw_backward(mg["L"], step=3)
    assert a.grad.item() == 100.0 and mg["b"].grad is None
    mg["L"].backward()                            # the graph still works
    assert a.grad.item() == 100.0 + engine_values()["a"][1]
    assert mg["b"].grad.item() == engine_values()["b"][1]


def test_trace_without_retain_graph_frees_it_like_backward(mg):
    viz.trace_backward(mg["L"], retain_graph=False)
    assert mg["a"].grad is None
    with pytest.raises(RuntimeError, match="retain_graph"):
        mg["L"].backward()


def numbered(source):
    return {int(m.group(1)): key for key, a in nodes(source).items()
            if (m := re.match(r"#(\d+) ", a.get("label", "")))}


@pytest.mark.parametrize("k", range(8))
def test_draw_backward_after_k_steps_numbers_exactly_k_nodes(mg, k):
    source = viz.draw_backward(mg["L"], step=k).source
    assert sorted(numbered(source)) == list(range(1, k + 1))
    found = nodes(source)
    freed = [a for a in found.values() if a.get("shape") == "ellipse" and "freed" in a["label"]]
    steps = viz.trace_backward(mg["L"])
    assert len(freed) == sum(1 for s in steps[:k] if s.op is not None)
    highlighted = [key for key, a in found.items() if a.get("color") == style.HIGHLIGHT
                   and a.get("shape") != "ellipse"]
    assert highlighted == ([numbered(source)[k]] if k else [])


def test_draw_backward_labels_every_edge_a_gradient_travelled(mg):
    source = viz.draw_backward(mg["L"]).source
    found = nodes(source)
    key = {a["label"].split("\n")[0].split()[1]: k for k, a in found.items()
           if a["label"].startswith("#")}
    expected = engine_values()
    labelled = {(t, h): a for t, h, a in edges(source)}
    for name in "abcfed":                         # the edge from each input into its op
        (edge,) = [a for (t, _), a in labelled.items() if t == key[name]]
        assert as_float(edge["label"]) == expected[name][1]
    assert all("label" in a for a in labelled.values())


def test_draw_backward_default_is_the_last_step_and_bad_steps_are_refused(mg):
    assert viz.draw_backward(mg["L"]).source == viz.draw_backward(mg["L"], step=7).source
    for bad in (-1, 8, 2.5, True):
        with pytest.raises(ValueError, match="from 0 to 7"):
            viz.draw_backward(mg["L"], step=bad)


def test_a_gradient_still_summing_shows_as_so_far():
    x = Tensor(3.0, requires_grad=True, name="x")
    u = x * 2.0
    v = x * 5.0
    L = u + v
    steps = viz.trace_backward(L)
    first = next(k for k, s in enumerate(steps, 1) if s.op == "Mul")
    label = by_name(viz.draw_backward(L, step=first).source)["x"]
    assert label_field(label, "grad") is None
    assert as_float(label_field(label, "grad so far")) in (2.0, 5.0)
    final = by_name(viz.draw_backward(L).source)["x"]
    assert as_float(label_field(final, "grad")) == 7.0


def test_colours_follow_the_fixed_gradient_scale(mg):
    drawn = by_name(viz.draw_graph(mg["L"], color="fixed").source)
    for name, (_, grad) in engine_values().items():
        assert drawn[name]["fillcolor"] == viz.grad_colors(np.array(grad))[0]


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_vanishing_exploding_and_nan_gradients_stand_out():
    small = Tensor(1.0, requires_grad=True, name="small")
    big = Tensor(1.0, requires_grad=True, name="big")
    sick = Tensor(0.0, requires_grad=True, name="sick")
    L = small * 1e-9 + big * 1e5 + sick.sqrt()   # d sqrt(s)/ds at 0 is inf
    for color in ("fixed", "relative"):               # the two ends on either scale
        drawn = by_name(viz.draw_graph(L, color=color).source)
        assert drawn["small"]["fillcolor"] == viz.PALETTE[0]
        assert drawn["big"]["fillcolor"] == viz.PALETTE[-1]
        assert drawn["sick"]["fillcolor"] == style.NONFINITE not in viz.PALETTE
    drawn = by_name(viz.draw_graph(L, color="fixed").source)
    assert drawn["small"]["fillcolor"] == viz.PALETTE[0]
    assert drawn["big"]["fillcolor"] == viz.PALETTE[-1]
    assert drawn["sick"]["fillcolor"] == style.NONFINITE not in viz.PALETTE


@pytest.mark.parametrize("m, expected", [
    (0.0, 0), (1e-7, 0), (1e-6, 1), (5e-3, 2), (0.5, 3), (5.0, 4), (50.0, 5), (1e3, 6),
    (1e30, 6), (np.nan, None), (np.inf, None)])
def test_colour_bins_are_decades_as_documented(m, expected):
    assert style.grad_bin(np.array([m, -m / 2])) == expected


def test_roles_are_styled_distinctly():
    w = Tensor(np.ones((2, 2)), requires_grad=True, name="w")
    x = Tensor(np.ones((2, 2)), requires_grad=True, name="x")
    data = Tensor(np.ones((2, 2)), name="data")
    L = ((w * x + data) * 3.0).sum()
    drawn = by_name(viz.draw_graph(L, params={"w": w}).source)
    assert drawn["w"]["shape"] == "box3d"                     # parameter
    assert drawn["x"]["shape"] == "box" and "rounded" not in drawn["x"]["style"]   # leaf
    assert "dashed" in drawn["data"]["style"]                  # constant
    root = [a for a in nodes(viz.draw_graph(L).source).values() if a.get("peripheries") == "2"]
    assert len(root) == 1 and root[0]["label"].startswith("scalar")
    number = [a for a in nodes(viz.draw_graph(L).source).values() if a.get("label") == "3"]
    assert len(number) == 1 and number[0]["shape"] == "plaintext"


def test_a_shared_number_is_drawn_once_per_use():
    x = Tensor(0.5, requires_grad=True, name="x")
    y = (x * 2.0) * 2.0                          # the engine shares the constant 2.0
    found = nodes(viz.draw_graph(y).source)
    twos = [k for k, a in found.items() if a.get("label") == "2"]
    assert len(twos) == 2
    assert len(found) == 3 + 2 + 2 + 1            # tensors, ops, one number per use, legend


def test_large_tensors_are_summarised():
    x = Tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4) - 5, requires_grad=True,
               name="x")
    label = by_name(viz.draw_graph((x * x).sum()).source)["x"]
    data = x.data.astype(np.float64)
    assert label_field(label, "data") == (f"norm {np.linalg.norm(data):.4g} "
                                          f"min {data.min():.4g} max {data.max():.4g}")
    assert label_field(label, "grad").startswith("norm ")
    assert label["label"].split("\n")[0] == "x (3, 4)"


def test_data_and_grad_can_be_hidden(mg):
    label = by_name(viz.draw_graph(mg["L"], show_data=False, show_grad=False).source)["a"]
    assert label_field(label, "data") is None and label_field(label, "grad") is None
    assert label["fillcolor"] == "white"


def test_broadcast_inputs_show_the_sum_back_to_their_shape():
    x = Tensor(np.arange(3.0).reshape(3, 1), requires_grad=True, name="x")
    y = Tensor(np.arange(4.0).reshape(1, 4), requires_grad=True, name="y")
    z = Tensor(np.ones((3, 4)), requires_grad=True, name="z")
    L = ((x + y) * z).sum()
    source = viz.draw_graph(L).source
    assert "sum_to (3, 1)" in source and "sum_to (1, 4)" in source
    assert source.count("broadcast to (3, 4)") == 2
    sums = [k for k, a in nodes(source).items() if "sum_to" in a.get("label", "")]
    assert len(sums) == 2                         # z has the output's shape: no reduction
    # in the backward drawing the broadcast gradient goes in, x's own comes out
    back = viz.draw_backward(L).source
    key = {a["label"].split("\n")[0].split()[1]: k for k, a in nodes(back).items()
           if a["label"].startswith("#")}
    L.backward()
    (into_x,) = [a for t, h, a in edges(back) if t == key["x"]]
    assert into_x["label"] == "[[4], [4], [4]]" == style.values(x.grad.data)
    assert into_x["labeltooltip"] == repr(x.grad.data.tolist())


def test_shape_changes_that_are_not_broadcasts_show_no_sum():
    x = Tensor(np.ones(3), requires_grad=True, name="x")
    w = Tensor(np.ones((3, 3)), requires_grad=True, name="w")
    L = (x.reshape(1, 3) @ w).sum() + x[0]
    assert "sum_to" not in viz.draw_graph(L).source


def test_a_freed_graph_without_its_record_cannot_be_drawn_and_says_why(mg):
    # backward() leaves each node a record of its edges (autograd.edges), which the drawing
    # follows (test_viz_freed); a node that kept none cannot be read, and the error says why
    mg["L"].backward()
    del mg["L"].grad_fn.edges
    with pytest.raises(RuntimeError, match=r"draw_graph: the graph below Mul was freed "
                                           r".*retain_graph=True"):
        viz.draw_graph(mg["L"])


def test_a_non_scalar_root_is_drawn_without_gradients_unless_seeded():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    y = x * x
    plain = viz.draw_graph(y).source
    assert "pass gradient=" in plain and label_field(by_name(plain)["x"], "grad") is None
    seeded = by_name(viz.draw_graph(y, gradient=np.array([1.0, 0.0, -1.0])).source)["x"]
    assert label_field(seeded, "grad") == "[2, 0, -6]"
    with pytest.raises(RuntimeError, match="trace_backward"):
        viz.trace_backward(y)


def test_a_hook_that_replaces_a_gradient_is_what_the_trace_shows():
    x = Tensor(2.0, requires_grad=True, name="x")
    h = x * 3.0
    h.name = "h"
    h.register_hook(lambda g: g * 10.0)
    L = h * 1.0
    drawn = by_name(viz.draw_graph(L).source)
    L.backward()
    assert as_float(label_field(drawn["x"], "grad")) == x.grad.item() == 30.0


def test_names_with_dot_syntax_are_escaped():
    x = Tensor(1.0, requires_grad=True, name='x"\\<b>')
    drawing = viz.draw_graph(x * 2.0)
    label = next(a["label"] for a in nodes(drawing.source).values()
             if a.get("label", "").startswith("x"))
    assert label.split("\n")[0] == 'x"\\<b> scalar'


def test_draw_graph_returns_a_digraph():
    import graphviz
    drawing = viz.draw_graph(micrograd()["L"], rankdir="TB")
    assert isinstance(drawing, graphviz.Digraph) and isinstance(drawing, viz.Drawing)
    assert "rankdir=TB" in drawing.source


def test_importing_autograd_viz_does_not_import_graphviz():
    import subprocess
    import sys
    code = ("import sys, autograd.viz\nfrom autograd import Tensor\n"
            "x = Tensor(2.0, requires_grad=True)\nautograd.viz.trace_backward(x * x)\n"
            "print('graphviz' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_bad_options_are_refused_before_anything_is_drawn(mg):
    with pytest.raises(ValueError, match="collapse needs params="):
        viz.draw_graph(mg["L"], collapse=True)
    with pytest.raises(ValueError, match="rankdir must be 'LR'"):
        viz.draw_backward(mg["L"], rankdir="sideways")
    assert mg["a"].grad is None
