"""Layers: shapes, PyTorch's initializations, gradients (gradcheck in float64), and the
behaviour each layer promises (Dropout's seeding and scaling, Embedding's ids and sparsity)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from nn_helpers import module_check

import gradspace.nn.functional as F
from gradspace import autograd, nn
from gradspace.autograd import RowSparseGrad, Tensor
from gradspace.nn.fused import Linear

rng = np.random.default_rng(0)


# -- Linear --------------------------------------------------------------------------------------

@given(lead=st.lists(st.integers(1, 3), max_size=2), n_in=st.integers(1, 4),
       n_out=st.integers(1, 4))
def test_linear_is_x_w_transpose_plus_b_for_any_leading_dims(lead, n_in, n_out):
    lin = nn.Linear(n_in, n_out)
    x = np.random.default_rng(1).standard_normal((*lead, n_in)).astype(np.float32)
    out = lin(Tensor(x))
    assert out.shape == (*lead, n_out) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, x @ lin.weight.data.T + lin.bias.data, rtol=1e-5,
                               atol=1e-6)


def test_linear_init_is_pytorchs_uniform_bound():
    n_in = 50
    lin = nn.Linear(n_in, 400)
    bound = 1 / math.sqrt(n_in)
    for p in (lin.weight, lin.bias):
        assert np.abs(p.data).max() <= bound
    w = lin.weight.data
    assert np.abs(w).max() > 0.95 * bound                    # fills the interval
    assert abs(w.var() - bound ** 2 / 3) < 0.05 * bound ** 2  # variance of U(-b, b)
    assert abs(w.mean()) < 0.02 * bound


def test_linear_without_bias_declares_it_absent():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None and list(lin.state_dict()) == ["weight"]
    assert "bias=False" in repr(lin)


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 5\).*\(3, 4\)"):
        nn.Linear(4, 3)(Tensor(np.ones((2, 5), np.float32)))


def test_linear_gradcheck_and_gradgradcheck(f64):
    lin = nn.Linear(3, 2)
    x = rng.standard_normal((4, 3))
    assert module_check(lin, x)
    assert module_check(lin, x, order=2)


def float64_arrays(shape):
    return hnp.arrays(np.float64, shape, elements=st.floats(-3, 3, width=64))


@given(batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
       n_in=st.integers(1, 3), n_out=st.integers(1, 3), data=st.data())
def test_fused_linear_gradcheck_gradgradcheck_and_value(batch, n_in, n_out, data):
    # x (..., in) with no, one or two batch dims; W (out, in); b (out,)
    x = data.draw(float64_arrays(batch + (n_in,)), label="x")
    w = data.draw(float64_arrays((n_out, n_in)), label="w")
    b = data.draw(float64_arrays((n_out,)), label="b")
    out = Linear.apply(Tensor(x), Tensor(w), Tensor(b))
    np.testing.assert_allclose(out.data, x @ w.T + b, rtol=1e-12, atol=1e-12)
    f = lambda x, w, b: Linear.apply(x, w, b)
    assert autograd.gradcheck(f, (x, w, b))
    assert autograd.gradgradcheck(f, (x, w, b))


def test_fused_linear_keeps_float32_and_matches_the_composition():
    rng = np.random.default_rng(0)
    x, w, b = (Tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
               for s in ((4, 3), (2, 3), (2,)))
    fused = Linear.apply(x, w, b)
    composed = x @ w.T + b
    assert fused.dtype == np.float32
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-6)
    fused.sum().backward()
    grads = [t.grad.data.copy() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    composed.sum().backward()
    for g, t in zip(grads, (x, w, b)):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, t.grad.data, rtol=1e-6)


def test_f_linear_with_a_bias_is_one_fused_node():
    x, lin = Tensor(np.ones((2, 3), np.float32)), nn.Linear(3, 4)
    assert lin(x).grad_fn.name == "Linear"
    assert nn.Linear(3, 4, bias=False)(x).grad_fn.name == "MatMul"


# -- LayerNorm -----------------------------------------------------------------------------------

def test_layernorm_normalizes_the_trailing_dims(f64):
    x = rng.standard_normal((3, 4, 5)) * 3 + 2
    ln = nn.LayerNorm((4, 5))
    out = ln(Tensor(x)).data
    mean = x.mean(axis=(1, 2), keepdims=True)
    expected = (x - mean) / np.sqrt(x.var(axis=(1, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, expected, atol=1e-12)
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        ln(Tensor(np.ones((3, 5))))


def test_layernorm_gradcheck_and_gradgradcheck(f64):
    ln = nn.LayerNorm(4)
    ln.weight.data[...] = rng.standard_normal(4)
    ln.bias.data[...] = rng.standard_normal(4)
    x = rng.standard_normal((2, 4))
    assert module_check(ln, x)
    assert module_check(ln, x, order=2)


def test_layernorm_without_affine_has_no_parameters():
    assert list(nn.LayerNorm(3, elementwise_affine=False).parameters()) == []


# -- activations, Flatten, containers ------------------------------------------------------------

@pytest.mark.parametrize("module, reference", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.LogSigmoid(), lambda x: -np.log1p(np.exp(-x))),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
    (nn.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
    (nn.Identity(), lambda x: x),
])
def test_parameter_free_layers_match_numpy_and_pass_gradcheck(f64, module, reference):
    x = rng.standard_normal((2, 3, 2)) + 0.1       # away from relu's kink at 0
    np.testing.assert_allclose(module(Tensor(x)).data, reference(x), atol=1e-12)
    assert module_check(module, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_relative_precision_in_both_tails(dtype):
    x = np.array([-80.0, -40.0, -20.0, -10.0, 0.0, 10.0, 40.0, 1e4, -1e4])
    with np.errstate(over="ignore"):
        expected = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(nn.Sigmoid()(Tensor(x.astype(dtype))).data, expected,
                               rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_flatten_dims():
    x = Tensor(np.zeros((2, 3, 4, 5)))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)


def test_sequential_indexing_length_iteration_and_slicing():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == layers[1:]
    assert list(tail._modules) == ["1", "2"]                 # slices keep keys, as torch
    with pytest.raises(IndexError, match="3"):
        model[3]
    x = Tensor(np.ones((4, 2), np.float32))
    np.testing.assert_array_equal(model(x).data, layers[2](layers[1](layers[0](x))).data)
    del model[1]
    assert list(model._modules) == ["0", "1"] and model[1] is layers[2]


def test_sequential_from_a_dict_keeps_names():
    model = nn.Sequential({"embed": nn.Linear(2, 2), "act": nn.Tanh()})
    assert [n for n, _ in model.named_parameters()] == ["embed.weight", "embed.bias"]


def test_module_list_registers_its_modules():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    blocks.append(nn.Linear(2, 1))
    assert len(blocks) == 4 and len(list(blocks.parameters())) == 8
    assert list(blocks.state_dict())[-2:] == ["3.weight", "3.bias"]
    blocks += [nn.ReLU()]
    assert isinstance(blocks[-1], nn.ReLU) and isinstance(blocks[1:3], nn.ModuleList)
    with pytest.raises(NotImplementedError):
        blocks(Tensor(np.ones(2)))


# -- Dropout -------------------------------------------------------------------------------------

def test_dropout_is_identity_in_eval():
    drop = nn.Dropout(0.5).eval()
    x = Tensor(np.ones((3, 4), np.float32))
    assert drop(x) is x


def test_dropout_is_reproducible_with_manual_seed():
    drop = nn.Dropout(0.3)
    x = Tensor(np.ones((50, 50), np.float32))
    autograd.manual_seed(7)
    a = drop(x).data
    autograd.manual_seed(7)
    b = drop(x).data
    c = drop(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)                        # a fresh mask every call


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_the_mean_and_drops_the_fraction_p(p):
    x = Tensor(np.ones(400_000, np.float32))
    out = nn.Dropout(p)(x).data
    dropped = (out == 0).mean()
    assert abs(dropped - p) < 0.005
    np.testing.assert_allclose(out[out != 0], 1 / (1 - p), rtol=1e-6)   # scale 1/(1-p)
    assert abs(out.mean() - 1) < 0.02
    assert out.dtype == np.float32


def test_dropout_edge_probabilities():
    x = Tensor(np.ones(10, np.float32))
    assert not nn.Dropout(1.0)(x).data.any()
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x.data)
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_dropout_gradcheck_with_a_fixed_mask(f64):
    assert module_check(nn.Dropout(0.4), rng.standard_normal((3, 4)), seed=5)


# -- Embedding -----------------------------------------------------------------------------------

@given(shape=st.lists(st.integers(0, 4), max_size=3))
def test_embedding_looks_up_rows_for_ids_of_any_shape(shape):
    embed = nn.Embedding(7, 3)
    ids = np.random.default_rng(2).integers(0, 7, shape)
    out = embed(ids)
    assert out.shape == (*shape, 3)
    np.testing.assert_array_equal(out.data, embed.weight.data[ids])
    np.testing.assert_array_equal(embed(Tensor(ids)).data, out.data)


def test_embedding_init_is_standard_normal_with_a_zero_padding_row():
    embed = nn.Embedding(20_000, 8, padding_idx=3)
    w = np.delete(embed.weight.data, 3, axis=0)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    assert not embed.weight.data[3].any()


@pytest.mark.parametrize("bad, position", [(10, r"\(1, 0\)"), (-1, r"\(1, 0\)"), (99, r"\(1, 0\)")])
def test_embedding_out_of_range_id_raises_index_error_naming_it_and_the_size(bad, position):
    embed = nn.Embedding(10, 2)
    before = embed.weight.data.copy()
    ids = np.array([[0, 9], [bad, 1]])
    with pytest.raises(IndexError, match=rf"id {bad} at position {position}.*10"):
        embed(ids)
    np.testing.assert_array_equal(embed.weight.data, before)


def test_embedding_refuses_float_ids():
    with pytest.raises(TypeError, match="float"):
        nn.Embedding(4, 2)(np.array([0.0, 1.0]))


def test_embedding_gradient_is_row_sparse_and_equals_the_dense_one():
    ids = np.array([[1, 4, 1], [7, 4, 4]])
    upstream = rng.standard_normal((2, 3, 5)).astype(np.float32)
    grads = []
    for sparse in (True, False):
        autograd.manual_seed(0)
        embed = nn.Embedding(9, 5, sparse=sparse)
        (embed(ids) * Tensor(upstream)).sum().backward()
        grads.append(embed.weight.grad)
    sparse_grad, dense_grad = grads
    assert isinstance(sparse_grad, RowSparseGrad) and not isinstance(dense_grad, RowSparseGrad)
    assert set(sparse_grad.coalesce().indices.tolist()) == {1, 4, 7}      # only looked-up rows
    expected = np.zeros((9, 5), np.float32)
    for (i, j), row in np.ndenumerate(ids):
        expected[row] += upstream[i, j]
    np.testing.assert_allclose(sparse_grad.data, expected, rtol=1e-6)
    np.testing.assert_allclose(dense_grad.data, expected, rtol=1e-6)


def test_padding_row_gets_zero_gradient():
    embed = nn.Embedding(5, 3, padding_idx=2)
    (embed(np.array([2, 1, 2, 0])) * 3.0).sum().backward()
    grad = embed.weight.grad.data
    assert not grad[2].any()
    np.testing.assert_array_equal(grad[[0, 1]], 3.0)


def test_negative_padding_idx_counts_from_the_end():
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    with pytest.raises(ValueError):
        nn.Embedding(5, 2, padding_idx=5)


def test_embedding_gradcheck_and_gradgradcheck(f64):
    # Without padding_idx: the padding row's zero gradient is a rule, not a derivative.
    embed = nn.Embedding(6, 2)
    ids = np.array([[0, 3], [3, 5]])
    assert module_check(embed, ids)
    assert module_check(embed, ids, order=2)


def test_from_pretrained_is_frozen_by_default():
    table = rng.standard_normal((4, 3)).astype(np.float32)
    embed = nn.Embedding.from_pretrained(table)
    assert not embed.weight.requires_grad
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_from_pretrained_copies_an_array_and_shares_a_tensor():
    table = rng.standard_normal((4, 3)).astype(np.float32)
    copied = nn.Embedding.from_pretrained(table)
    np.testing.assert_array_equal(copied.weight.data, table)
    assert not np.shares_memory(copied.weight.data, table)
    shared = nn.Embedding.from_pretrained(autograd.from_numpy(table))
    assert shared.weight.data is table


def test_functional_embedding_checks_ids_before_looking_up():
    weight = nn.Parameter(np.ones((3, 2), np.float32))
    with pytest.raises(IndexError, match="id 3 .*num_embeddings=3"):
        F.embedding(np.array([0, 3]), weight)
