"""The graph outlives backward, the buffers do not: after a plain backward() the drawings still
show every operation, name and shape and the leaves' values and .grad, with the intermediate
values marked freed; the graph holds no intermediate array, and a second backward still
raises."""
import gc
import weakref

import numpy as np
import pytest
from compositions import STEPS, Gradspace, run
from viz_helpers import as_float, by_name, clusters, label_field, micrograd, nodes

from gradspace import nn
from gradspace.autograd import Tensor, viz


def test_micrograd_drawn_after_backward_carries_every_leaf_s_gradient():
    t = micrograd()
    L = t["L"]
    before = nodes(viz.draw_graph(L).source)
    L.backward()
    source = viz.draw_graph(L).source
    after = nodes(source)
    named = by_name(source)
    for leaf in "abcf":
        assert as_float(label_field(named[leaf], "grad")) == t[leaf].grad.item()
        assert as_float(label_field(named[leaf], "data")) == t[leaf].item()
    # the intermediates are there, named and shaped, their values marked freed, not invented
    for name in ("e", "d"):
        assert label_field(named[name], "data") == "freed"
        assert label_field(named[name], "grad") is None
        assert "dashed" in named[name]["style"]
    # the same nodes as before backward: operations, names, shapes
    def heads(found):                             # the legend's ranges aside
        return sorted(a["label"].split("\n")[0] for k, a in found.items() if k != "legend")

    assert heads(after) == heads(before)
    assert "after backward()" in source
    # draw_backward too; stepping through needs the buffers: a clear error
    assert by_name(viz.draw_backward(L).source)["a"]["label"] == named["a"]["label"]
    with pytest.raises(RuntimeError, match="draw_backward: backward.. already ran"):
        viz.draw_backward(L, step=2)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.save_player(L, "unused.html")


def mlp_loss():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = Tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32), name="x")
    return model, nn.functional.cross_entropy(model(x), np.array([0, 1, 0, 1, 1]))


def test_a_two_layer_mlp_drawn_after_backward_carries_every_parameter_s_gradient():
    model, loss = mlp_loss()
    boxes_before = clusters(viz.draw_graph(loss, params=model).source)
    loss.backward()
    source = viz.draw_graph(loss, params=model).source
    named = by_name(source)
    for name, p in model.named_parameters():
        shown = label_field(named[name], "grad")
        expected = viz.style.compact(p.grad.data)
        assert shown == expected, name
    assert named["x"]["label"].split("\n")[1].startswith("data norm")      # a leaf's value
    freed = [a for a in nodes(source).values() if label_field(a, "data") == "freed"]
    assert len(freed) == 3                        # the two Linear outputs and the Tanh's
    # the boxes survive backward: each op and tensor still in the module that ran it (the
    # broadcast notes, which come from tracing a backward pass, are not drawn any more)
    def members(boxes):
        return {k: sorted(m for m in v if m[0] in "tf" and m[1:].isdigit())
                for k, v in boxes.items()}

    assert members(clusters(source)) == members(boxes_before)
    assert set(clusters(source)) == {"0 (Linear)", "1 (Tanh)", "2 (Linear)"}


def test_after_backward_the_graph_holds_no_intermediate_array_and_cannot_run_again():
    model, loss = mlp_loss()
    # every intermediate array of the graph, held weakly
    arrays, stack, seen = [], [loss], set()
    while stack:
        t = stack.pop()
        if t.grad_fn is None or id(t) in seen:
            continue
        seen.add(id(t))
        if t is not loss:
            arrays.append(weakref.ref(t.data.base if t.data.base is not None else t.data)
                          if isinstance(t.data, np.ndarray) and t.data.ndim else None)
        stack.extend(t.grad_fn.inputs)
    arrays = [a for a in arrays if a is not None]
    assert len(arrays) >= 3
    loss.backward()
    gc.collect()
    assert [a for a in arrays if a() is not None] == []
    # what the graph still reaches: the leaves' arrays, the loss's own, and nothing else
    leaves = {id(a) for p in model.parameters() for a in (p.data, p.grad.data)}
    found = reachable_arrays(loss)
    assert found - leaves - {id(loss.data)} == {id(a) for a in leaf_inputs(loss)}
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


@pytest.mark.parametrize("name", sorted(STEPS))
def test_after_backward_no_node_of_any_op_keeps_an_array_it_saved(name):
    # Each op names the slots that may hold arrays its backward reads (Function.saved: ids,
    # masks, softmax buffers, indices); backward() frees them with the node. What the graph
    # still reaches is the leaves' arrays (x, its .grad, constants) and the loss's own.
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    loss = run([name], x, Gradspace).sum()
    loss.backward()
    kept = reachable_arrays(loss) - {id(loss.data), id(x.data), id(x.grad.data)}
    assert kept - {id(a) for a in leaf_inputs(loss)} == set()


def reachable_arrays(root):
    """ids of every ndarray reachable from root through grad_fn, edges and saved slots."""
    found, stack, seen = set(), [root], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            found.add(id(obj))
        elif isinstance(obj, (tuple, list)):
            stack.extend(obj)
        elif hasattr(obj, "__slots__") or hasattr(obj, "__dict__"):
            names = [n for c in type(obj).__mro__ for n in getattr(c, "__slots__", ())]
            names += list(getattr(obj, "__dict__", {}))
            for n in names:
                if n != "__weakref__" and hasattr(obj, n):
                    stack.append(getattr(obj, n))
    return found


def leaf_inputs(root):
    """The arrays of the leaves that are not parameters (the input batch x, constants)."""
    out, stack = [], [root.grad_fn]
    while stack:
        fn = stack.pop()
        for e in fn.edges:
            if isinstance(e, tuple):
                stack.append(e[0])
            elif not e.requires_grad:
                out.append(e.data)
    return out
