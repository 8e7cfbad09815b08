"""Module boxes: parameter names, clusters named after module paths, collapse=True.

autograd must not import nn, so the drawing duck-types modules: a tiny stand-in with
named_parameters()/named_modules() checks exactly that contract, and real nn modules check
that nn meets it.
"""
import numpy as np
import pytest
from viz_helpers import by_name, clusters, edges, label_field, nodes

from gradspace import nn
from gradspace.autograd import Tensor, viz


class StandInLinear:
    """Only what the drawing may rely on: named_parameters() and named_modules()."""

    def __init__(self, n_in, n_out, rng):
        self.weight = Tensor(rng.normal(size=(n_out, n_in)) * 0.5, requires_grad=True)
        self.bias = Tensor(np.zeros(n_out), requires_grad=True)

    def named_parameters(self, prefix=""):
        return [(prefix + "weight", self.weight), (prefix + "bias", self.bias)]

    def named_modules(self, prefix=""):
        return [(prefix.rstrip("."), self)]

    def __call__(self, x):
        return x @ self.weight.transpose(0, 1) + self.bias


class StandInEncoder:
    """encoder.0 (Linear) -> relu -> encoder.2 (Linear), under a model whose path is ''."""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.layers = [StandInLinear(3, 4, rng), None, StandInLinear(4, 2, rng)]

    def named_parameters(self):
        for i in (0, 2):
            yield from self.layers[i].named_parameters(f"encoder.{i}.")

    def named_modules(self):
        yield "", self
        yield "encoder", self.layers
        for i in (0, 2):
            yield from self.layers[i].named_modules(f"encoder.{i}.")

    def __call__(self, x):
        return self.layers[2](self.layers[0](x).relu())


def stand_in_loss():
    model = StandInEncoder()
    x = Tensor(np.random.default_rng(1).normal(size=(5, 3)), name="x")
    return model, (model(x) ** 2).mean()


def test_parameters_are_named_by_their_path_and_boxed_by_their_module():
    model, loss = stand_in_loss()
    source = viz.draw_graph(loss, params=model).source
    named = by_name(source)
    assert {"encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias"} \
        <= set(named)
    key = {name: k for k, a in nodes(source).items() for name in [a["label"].split()[0]]}
    boxes = clusters(source)
    assert key["encoder.0.weight"] in boxes["encoder.0 (StandInLinear)"]
    assert key["encoder.2.bias"] in boxes["encoder.2 (StandInLinear)"]
    assert key["encoder.0.weight"] not in boxes["encoder.2 (StandInLinear)"]
    # the nested boxes sit inside the encoder's box
    assert boxes["encoder.0 (StandInLinear)"] | boxes["encoder.2 (StandInLinear)"] \
        <= boxes["encoder (list)"]
    assert named["encoder.0.weight"]["shape"] == "box3d"


def test_operations_go_to_the_module_whose_parameters_they_read():
    model, loss = stand_in_loss()
    source = viz.draw_graph(loss, params=model).source
    found, boxes = nodes(source), clusters(source)
    ops_in = {label: sorted(found[k]["label"].split("\n")[0] for k in members
                            if found[k]["shape"] == "ellipse")
              for label, members in boxes.items()}
    # x @ W.T + b: transpose, matmul and add in each Linear's box
    assert ops_in["encoder.0 (StandInLinear)"] == ["Add", "MatMul", "Permute"]
    assert ops_in["encoder.2 (StandInLinear)"] == ["Add", "MatMul", "Permute"]
    # the relu between the two layers is in the encoder, the loss outside every box
    relu = [k for k, a in found.items() if a["label"] == "Relu"]
    assert relu and relu[0] in boxes["encoder (list)"]
    assert relu[0] not in boxes["encoder.0 (StandInLinear)"] | boxes["encoder.2 (StandInLinear)"]
    inside = set().union(*boxes.values())
    assert [found[k]["label"].split("\n")[0] for k in found
            if found[k]["shape"] == "ellipse" and k not in inside] == ["Pow", "Sum", "Div"]


def test_collapse_draws_each_module_as_one_node():
    model, loss = stand_in_loss()
    source = viz.draw_graph(loss, params=model, collapse=True).source
    found = nodes(source)
    groups = [a for a in found.values() if a["label"].startswith("encoder.")]
    assert sorted(a["label"].split("\n")[0] for a in groups) == \
        ["encoder.0 (StandInLinear)", "encoder.2 (StandInLinear)"]
    assert not [a for a in found.values() if "weight (" in a["label"].split("\n")[0]]
    assert "params: weight (4, 3), bias (4,)" in groups[0]["label"]
    # wired in forward order: x -> encoder.0 -> relu -> ... -> encoder.2 -> loss
    key = {a["label"].split("\n")[0]: k for k, a in found.items()}
    wires = {(t, h) for t, h, _ in edges(source)}
    x = next(k for k, a in found.items() if a["label"].startswith("x (5, 3)"))
    assert (x, key["encoder.0 (StandInLinear)"]) in wires
    assert (key["encoder.0 (StandInLinear)"], key["Relu"]) in wires
    # collapse=1 folds both layers into the encoder
    one = nodes(viz.draw_graph(loss, params=model, collapse=1).source)
    assert [a["label"].split("\n")[0] for a in one.values()
            if a["label"].startswith("encoder")] == ["encoder (list)"]


def test_collapsed_modules_are_coloured_by_their_parameters_gradients():
    model, loss = stand_in_loss()
    found = nodes(viz.draw_graph(loss, params=model, collapse=True).source)
    loss.backward()
    for i in (0, 2):
        layer = model.layers[i]
        biggest = max(np.abs(layer.weight.grad.data).max(), np.abs(layer.bias.grad.data).max())
        (group,) = [a for a in found.values() if a["label"].startswith(f"encoder.{i} ")]
        assert group["fillcolor"] == viz.grad_colors(np.array(biggest))[0]


def test_a_dict_of_named_parameters_works_too():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    loss = (w * w).sum()
    source = viz.draw_graph(loss, params={"block.w": w}).source
    assert "block.w (2, 2)" in source and "block" in clusters(source)


def test_params_that_are_not_tensors_are_refused():
    with pytest.raises(TypeError, match="'w' to a str"):
        viz.draw_graph(Tensor(1.0, requires_grad=True) * 2.0, params={"w": "oops"})


def test_real_nn_modules_meet_the_contract():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = Tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32), name="x")
    loss = nn.functional.cross_entropy(model(x), np.array([0, 1, 0, 1, 1]))
    source = viz.draw_graph(loss, params=model).source
    boxes = clusters(source)
    assert set(boxes) == {"0 (Linear)", "2 (Linear)"}
    named = by_name(source)
    collapsed = nodes(viz.draw_graph(loss, params=model, collapse=True).source)
    assert sorted(a["label"].split("\n")[0] for a in collapsed.values()
                  if a["shape"] == "box3d") == ["0 (Linear)", "2 (Linear)"]
    loss.backward()
    for name, p in model.named_parameters():
        assert label_field(named[name], "grad") is not None
        assert named[name]["fillcolor"] == viz.grad_colors(p.grad.data)[0]
