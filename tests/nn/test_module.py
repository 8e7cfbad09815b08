"""Module: registration, walking the tree, modes, gradients, repr, state_dict and loading."""
import copy
import pickle
import re

import numpy as np
import pytest

from gradspace import autograd, nn
from gradspace.autograd import Tensor


class Tied(nn.Module):
    """Two Linear layers sharing one weight, and a child reachable under two names."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)
        self.b = nn.Linear(3, 3)
        self.b.weight = self.a.weight
        self.again = self.a
        self.register_buffer("steps", Tensor(np.array(0)))
        self.register_buffer("cache", Tensor(np.zeros(2)), persistent=False)

    def forward(self, x):
        return self.b(self.a(x))


def mlp():
    return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_unchanged(model, before):
    for key, value in model.state_dict().items():
        assert value.tobytes() == before[key].tobytes(), key


# -- registration ------------------------------------------------------------------------------

def test_assignment_registers_parameters_modules_and_plain_attributes():
    m = nn.Module()
    m.w = nn.Parameter(np.ones(2))
    m.child = nn.Linear(2, 2)
    m.note = "plain"
    m.t = Tensor(np.ones(2))             # a plain Tensor is not a parameter
    assert list(m._parameters) == ["w"] and list(m._modules) == ["child"]
    assert [n for n, _ in m.named_parameters()] == ["w", "child.weight", "child.bias"]
    assert m.note == "plain" and "note" not in m._parameters


def test_reassigning_a_name_moves_it_between_kinds():
    m = nn.Module()
    m.x = nn.Linear(2, 2)
    m.x = nn.Parameter(np.ones(1))
    assert "x" not in m._modules and m.x is m._parameters["x"]
    m.x = None                           # a declared parameter may be cleared
    assert m.x is None and list(m.parameters()) == []


def test_assigning_a_tensor_to_a_parameter_name_is_refused():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="weight"):
        lin.weight = Tensor(np.ones((2, 2)))


# Each kind of member, registered by its method: the store, a valid value, what errors call it.
KINDS = [
    ("register_parameter", "_parameters", lambda: nn.Parameter(np.ones(1)), "parameter"),
    ("register_buffer", "_buffers", lambda: Tensor(np.ones(1)), "buffer"),
    ("add_module", "_modules", lambda: nn.Linear(1, 1), "module"),
]


@pytest.mark.parametrize("method, store, make, what", KINDS)
def test_every_kind_of_member_is_checked_the_same_way_before_anything_changes(
        method, store, make, what):
    m = nn.Module()
    register = getattr(m, method)
    register("x", make())
    kept = getattr(m, store)["x"]
    for name, error in [("a.b", KeyError), ("", KeyError), (3, TypeError),
                        ("forward", KeyError), ("training", KeyError)]:
        with pytest.raises(error, match=what if error is TypeError else "."):
            register(name, make())
    with pytest.raises(TypeError, match=f"cannot assign str as {what} 'x'"):
        register("x", "not a member")
    with pytest.raises(TypeError, match=f"cannot assign int as {what} 'x'"):
        m.x = 3                                              # the assignment path alike
    assert getattr(m, store) == {"x": kept} and m.x is kept
    register("x", None)                                      # declared but absent
    assert getattr(m, store) == {"x": None} and m.x is None


def test_assignment_replaces_a_plain_attribute_and_a_module_a_class_attribute():
    m = nn.Module()
    m.x = 5
    m.x = nn.Parameter(np.ones(1))
    assert "x" not in m.__dict__ and m.x is m._parameters["x"]
    with pytest.raises(KeyError, match="forward"):         # as PyTorch: not a parameter...
        m.forward = nn.Parameter(np.ones(1))
    assert "forward" not in m._parameters

    class WithDefault(nn.Module):
        head = None                                         # a class-level default

        def __init__(self):
            super().__init__()
            self.head = nn.Linear(1, 1)                     # ...but a module may, as PyTorch

    assert list(WithDefault()._modules) == ["head"]

def test_forgetting_super_init_gives_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1))

    with pytest.raises(AttributeError, match=re.escape("super().__init__()")):
        Bad()


def test_missing_attribute_names_the_module():
    with pytest.raises(AttributeError, match="Linear.*nope"):
        getattr(nn.Linear(2, 2), "nope")  # noqa: B009


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(np.zeros(3, np.float32))
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf and p.dtype == np.float32
    t = Tensor(np.ones(2))
    assert nn.Parameter(t).data is t.data         # shares, as torch.nn.Parameter
    with pytest.raises(TypeError):
        nn.Parameter(np.arange(3))                # integers cannot require grad
    assert repr(p).startswith("Parameter containing:")


# -- walking the tree ----------------------------------------------------------------------------

def test_parameters_in_stable_registration_order_without_duplicates():
    model = Tied()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["a.weight", "a.bias", "b.bias"]
    assert len(list(model.parameters())) == 3
    assert [n for n, _ in model.named_parameters()] == names           # the same every time
    assert model.num_parameters() == 9 + 3 + 3


def test_children_and_modules_each_once():
    model = Tied()
    assert [n for n, _ in model.named_children()] == ["a", "b"]
    assert [n for n, _ in model.named_modules()] == ["", "a", "b"]
    deep = nn.Sequential(nn.Sequential(nn.Linear(1, 1)), nn.ReLU())
    assert [n for n, _ in deep.named_modules()] == ["", "0", "0.0", "1"]
    assert next(iter(deep.modules())) is deep


def test_deep_nesting_has_no_recursion_limit():
    model = nn.Linear(1, 1)
    for _ in range(3000):
        model = nn.Sequential(model)
    assert len(list(model.parameters())) == 2


def test_train_and_eval_reach_every_descendant():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError):
        model.train("no")


def test_zero_grad_sets_none_and_num_parameters_counts_trainable():
    model = mlp()
    model(Tensor(np.ones((2, 4), np.float32))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model[0].weight.requires_grad_(False)
    assert model.num_parameters(only_trainable=True) == model.num_parameters() - 20


def test_zero_grad_without_none_makes_new_zero_tensors():
    lin = nn.Linear(2, 2)
    lin(Tensor(np.ones((1, 2), np.float32))).sum().backward()
    old = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is not old and not lin.weight.grad.data.any()
    assert old.data.any()                   # the old gradient object was not zeroed in place


def test_repr_is_a_tree():
    model = nn.Sequential(nn.Linear(4, 5), nn.Sequential(nn.ReLU(), nn.Dropout(0.1)))
    lines = repr(model).split("\n")
    assert lines[0] == "Sequential("
    assert lines[1] == "  (0): Linear(in_features=4, out_features=5, bias=True)"
    assert lines[2] == "  (1): Sequential("
    assert lines[3] == "    (0): ReLU()"
    assert lines[4] == "    (1): Dropout(p=0.1)"
    assert lines[5:] == ["  )", ")"]


def test_to_casts_parameters_in_place_keeping_their_identity():
    model = mlp()
    first = model[0].weight
    model.double()
    assert model[0].weight is first and all(p.dtype == np.float64 for p in model.parameters())


def test_deepcopy_and_pickle_keep_parameters_and_sharing():
    model = Tied()
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert isinstance(clone.a.weight, nn.Parameter)
        assert clone.a.weight is clone.b.weight and clone.a.weight is not model.a.weight
        np.testing.assert_array_equal(clone.a.weight.data, model.a.weight.data)


def test_deepcopy_after_backward_keeps_row_sparse_gradients():
    embed = nn.Embedding(6, 2)
    embed(np.array([1, 4, 1])).sum().backward()
    for clone in (copy.deepcopy(embed), pickle.loads(pickle.dumps(embed))):
        assert clone.weight.grad.is_sparse
        np.testing.assert_array_equal(clone.weight.grad.data, embed.weight.grad.data)


# -- state_dict ----------------------------------------------------------------------------------

def test_state_dict_keys_shapes_and_layout_are_pytorchs():
    sd = mlp().state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [v.shape for v in sd.values()] == [(5, 4), (5,), (2, 5), (2,)]   # (out, in)
    assert all(isinstance(v, np.ndarray) for v in sd.values())


def test_state_dict_holds_copies():
    model = mlp()
    sd = model.state_dict()
    sd["0.weight"][...] = 7
    assert not (model[0].weight.data == 7).any()


def test_state_dict_includes_persistent_buffers_and_shared_entries_under_each_name():
    sd = Tied().state_dict()
    # As PyTorch: each module's own parameters and buffers, then its children's.
    assert list(sd) == ["steps", "a.weight", "a.bias", "b.weight", "b.bias",
                        "again.weight", "again.bias"]


def test_load_state_dict_round_trip_copies_in_place():
    source, target = mlp(), mlp()
    params = list(target.parameters())
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert list(target.parameters()) == params                 # the same objects
    for a, b in zip(source.parameters(), target.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_load_casts_float64_into_float32():
    model = mlp()
    sd = {k: v.astype(np.float64) + 1 for k, v in model.state_dict().items()}
    model.load_state_dict(sd)
    assert model[0].weight.dtype == np.float32
    np.testing.assert_allclose(model[0].weight.data, sd["0.weight"], rtol=1e-6)


@pytest.mark.parametrize("corrupt, message", [
    (lambda sd: sd.pop("2.bias"), r'Missing key.*"2\.bias"'),
    (lambda sd: sd.update({"3.weight": np.ones(2)}), r'Unexpected key.*"3\.weight"'),
    (lambda sd: sd.update({"0.weight": np.ones((4, 5))}),
     r"size mismatch for 0\.weight.*\(4, 5\).*\(5, 4\)"),
    (lambda sd: sd.update({"0.bias": np.arange(5)}), r"dtype mismatch for 0\.bias.*int64"),
    (lambda sd: sd.update({"0.bias": np.array(["a"] * 5)}), r"0\.bias"),
])
def test_a_failing_load_names_the_key_and_changes_nothing(corrupt, message):
    model = mlp()
    before = snapshot(model)
    sd = {k: v + 1.0 for k, v in model.state_dict().items()}     # would change every value
    corrupt(sd)
    with pytest.raises(RuntimeError, match=message):
        model.load_state_dict(sd)
    assert_unchanged(model, before)


def test_one_bad_entry_among_good_ones_loads_nothing():
    model = mlp()
    before = snapshot(model)
    sd = {k: v + 1.0 for k, v in model.state_dict().items()}
    sd["2.bias"] = np.ones(3)                 # the last entry is the bad one
    with pytest.raises(RuntimeError, match="2.bias"):
        model.load_state_dict(sd)
    assert_unchanged(model, before)


def test_non_strict_load_reports_keys_but_still_refuses_bad_shapes():
    model = mlp()
    sd = model.state_dict()
    sd.pop("0.bias")
    sd["extra"] = np.ones(1)
    result = model.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra"]
    sd["0.weight"] = np.ones((1, 1))
    with pytest.raises(RuntimeError, match="0.weight"):
        model.load_state_dict(sd, strict=False)


def test_load_accepts_tensors_and_restores_integer_buffers():
    model = Tied()
    sd = {k: Tensor(v) for k, v in model.state_dict().items()}
    sd["steps"] = Tensor(np.array(5))
    model.load_state_dict(sd)
    assert int(model.steps.item()) == 5
    with pytest.raises(RuntimeError, match="steps"):
        model.load_state_dict({**model.state_dict(), "steps": np.array(1.5)})


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError):
        mlp().load_state_dict([1, 2])


def test_seeded_construction_is_reproducible():
    autograd.manual_seed(3)
    a = mlp().state_dict()
    autograd.manual_seed(3)
    b = mlp().state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
