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
    found = nodes(viz.draw_graph(loss, params=model, collapse=True, color="fixed").source)
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
    source = viz.draw_graph(loss, params=model, color="fixed").source
    boxes = clusters(source)
    # the ReLU module ran the relu: nn.Module.__call__ recorded it (no guess needed)
    assert set(boxes) == {"0 (Linear)", "1 (ReLU)", "2 (Linear)"}
    named = by_name(source)
    collapsed = nodes(viz.draw_graph(loss, params=model, collapse=True).source)
    assert sorted(a["label"].split("\n")[0] for a in collapsed.values()
                  if a["shape"] == "box3d") == ["0 (Linear)", "1 (ReLU)", "2 (Linear)"]
    loss.backward()
    for name, p in model.named_parameters():
        assert label_field(named[name], "grad") is not None
        assert named[name]["fillcolor"] == viz.grad_colors(p.grad.data)[0]


# -- boxes from recorded calls: nn.Module.__call__ notes what each call made ----------------

def ops_by_box(source):
    """[(operation, innermost cluster label or None)] in forward order (op ids f0, f1, ...)."""
    found, boxes = nodes(source), clusters(source)
    placed = []
    for key, a in sorted(found.items(), key=lambda item: int(item[0][1:] or 0)
                         if item[0][1:].isdigit() else -1):
        if a.get("shape") != "ellipse":
            continue
        inside = [label for label, members in boxes.items() if key in members]
        innermost = min(inside, key=lambda label: len(boxes[label]), default=None)
        placed.append((a["label"].split("\n")[0], innermost))
    return placed


def ids(*shape, high=10):
    return Tensor(np.random.default_rng(2).integers(0, high, size=shape))


def test_an_embedding_first_model_boxes_each_op_in_the_layer_that_ran_it():
    model = nn.Sequential(nn.Embedding(10, 2), nn.Flatten(), nn.Linear(6, 4), nn.Tanh(),
                          nn.Linear(4, 10))
    loss = nn.functional.cross_entropy(model(ids(5, 3)), np.arange(5))
    assert ops_by_box(viz.draw_graph(loss, params=model).source) == [
        ("EmbeddingLookup", "0 (Embedding)"), ("Reshape", "1 (Flatten)"),
        ("Linear", "2 (Linear)"), ("Tanh", "3 (Tanh)"), ("Linear", "4 (Linear)"),
        ("CrossEntropy", None)]
    collapsed = [a["label"].split("\n") for a in
                 nodes(viz.draw_graph(loss, params=model, collapse=True).source).values()
                 if a.get("shape") == "box3d"]
    # each layer one node, with the shapes it really took and gave
    assert [(lines[0], [x for x in lines if x.startswith(("in ", "out "))])
            for lines in collapsed] == [
        ("0 (Embedding)", ["in (5, 3)", "out (5, 3, 2)"]),
        ("1 (Flatten)", ["in (5, 3, 2)", "out (5, 6)"]),
        ("2 (Linear)", ["in (5, 6)", "out (5, 4)"]),
        ("3 (Tanh)", ["in (5, 4)", "out (5, 4)"]),
        ("4 (Linear)", ["in (5, 4)", "out (5, 10)"])]
    assert all("1 op" in lines for lines in collapsed)


def charlm_loss():
    from gradspace.train.recipes import charlm
    config = charlm.Config(block_size=3, emb_dim=2, hidden=4)
    model = charlm.build_model(config, list("abcdefghij"))
    return model, nn.functional.cross_entropy(model(ids(4, 3)), np.array([1, 2, 3, 4]))


def test_the_charlm_model_boxes_every_op_in_the_module_that_ran_it_and_the_loss_in_none():
    model, loss = charlm_loss()
    # CharMLP.forward itself flattens and applies tanh: the root module, which has no box
    assert ops_by_box(viz.draw_graph(loss, params=model).source) == [
        ("EmbeddingLookup", "embed (Embedding)"), ("Reshape", None),
        ("Linear", "hidden (Linear)"), ("Tanh", None), ("Linear", "out (Linear)"),
        ("CrossEntropy", None)]
    source = viz.draw_graph(loss, params=model, collapse=True).source
    labels = [a["label"].split("\n") for a in nodes(source).values()
              if a.get("shape") == "box3d"]
    assert [(x[0], x[2], x[3]) for x in labels] == [
        ("embed (Embedding)", "in (4, 3)", "out (4, 3, 2)"),
        ("hidden (Linear)", "in (4, 6)", "out (4, 4)"),
        ("out (Linear)", "in (4, 4)", "out (4, 10)")]


@pytest.mark.parametrize("loss_kind", ["softmax", "negative"])
def test_the_skipgram_models_box_their_two_tables(loss_kind):
    from gradspace.train.recipes import skipgram
    config = skipgram.Config(dim=3, loss=loss_kind)
    model = skipgram.build_model(config, list("abcdefgh"))
    centers = ids(4, high=8)
    if loss_kind == "softmax":
        loss = nn.functional.cross_entropy(model(centers), np.array([1, 2, 3, 4]))
        expected = [("EmbeddingLookup", "center (Embedding)"),      # no bias: x @ W.T
                    ("Permute", "context (Linear)"), ("MatMul", "context (Linear)"),
                    ("CrossEntropy", None)]
    else:
        # scores() is a plain method: its product and sum belong to no call of a module
        loss = model.scores(centers, ids(4, 3, high=8)).sum()
        expected = [("EmbeddingLookup", "center (Embedding)"),
                    ("EmbeddingLookup", "context (Embedding)"), ("Reshape", None),
                    ("Mul", None), ("Sum", None), ("Sum", None)]
    placed = ops_by_box(viz.draw_graph(loss, params=model).source)
    assert sorted(placed, key=str) == sorted(expected, key=str)


def test_nested_modules_nest_their_boxes():
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Linear(4, 1))
    loss = model(Tensor(np.ones((2, 3), np.float32))).sum()
    source = viz.draw_graph(loss, params=model).source
    assert ops_by_box(source) == [("Linear", "0.0 (Linear)"), ("Relu", "0.1 (ReLU)"),
                                  ("Linear", "1 (Linear)"), ("Sum", None)]
    boxes = clusters(source)
    assert boxes["0.0 (Linear)"] | boxes["0.1 (ReLU)"] <= boxes["0 (Sequential)"]


def test_a_module_called_twice_boxes_both_calls():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.Tanh(), shared)      # one module, two calls
    loss = model(Tensor(np.ones((2, 3), np.float32))).sum()
    assert ops_by_box(viz.draw_graph(loss, params=model).source) == [
        ("Linear", "0 (Linear)"), ("Tanh", "1 (Tanh)"), ("Linear", "0 (Linear)"),
        ("Sum", None)]


def test_the_call_record_lives_on_the_graph_and_is_not_kept_under_no_grad():
    from gradspace.autograd import no_grad, scopes
    layer = nn.Linear(2, 2)
    out = layer(Tensor(np.ones((1, 2), np.float32)))
    ((owner, first, last, shapes),) = scopes.calls_of(out)
    assert owner is layer and first < out._seq < last and shapes == ((1, 2),)
    assert out.grad_fn.calls == ((owner, first, last, shapes),)   # on the node: dies with it
    with no_grad():
        assert scopes.calls_of(layer(Tensor(np.ones((1, 2), np.float32)))) == []
    # a call that returns what it was given notes nothing: no node of its own is there
    passed = Tensor(np.ones(2, np.float32), requires_grad=True)
    assert nn.Identity()(passed) is passed and scopes.calls_of(passed) == []
