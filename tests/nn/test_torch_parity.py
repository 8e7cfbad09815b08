"""Cross-checks against PyTorch, when it happens to be installed (it is never a dependency:
every feature is covered by the other tests without it)."""
import numpy as np
import pytest

import gradspace.nn.functional as F
from gradspace import nn
from gradspace.autograd import Tensor

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)


class Ours(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4, padding_idx=0)
        self.norm = nn.LayerNorm(4)
        self.mlp = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))

    def forward(self, ids):
        return self.mlp(self.norm(self.embed(ids)))


class Theirs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 4, padding_idx=0)
        self.norm = torch.nn.LayerNorm(4)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(),
                                       torch.nn.Linear(6, 3))

    def forward(self, ids):
        return self.mlp(self.norm(self.embed(ids)))


def test_our_state_dict_loads_into_torch_and_gives_the_same_outputs():
    ours, theirs = Ours(), Theirs()
    sd = ours.state_dict()
    assert list(sd) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    ids = rng.integers(0, 10, (5, 7))
    expected = theirs(torch.from_numpy(ids)).detach().numpy()
    np.testing.assert_allclose(ours(ids).data, expected, rtol=1e-5, atol=1e-6)


def test_torch_state_dict_loads_into_ours():
    ours, theirs = Ours(), Theirs()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(ours.mlp(Tensor(x)).data,
                               theirs.mlp(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_weight_norm_keys_match_torchs():
    from torch.nn.utils.parametrizations import weight_norm
    theirs = weight_norm(torch.nn.Linear(3, 2))
    ours = nn.parametrize.register_parametrization(nn.Linear(3, 2), "weight",
                                                  nn.parametrize.WeightNorm(0))
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("kwargs", [
    {}, {"label_smoothing": 0.15}, {"ignore_index": 2, "reduction": "sum"},
    {"weight": np.array([0.3, 1.0, 2.0, 0.7]), "label_smoothing": 0.1, "ignore_index": 1},
    {"reduction": "none", "label_smoothing": 0.2},
])
def test_cross_entropy_matches_torch(kwargs):
    z = rng.standard_normal((3, 4, 2))
    y = rng.integers(0, 4, (3, 2))
    x = Tensor(z, requires_grad=True)
    loss = F.cross_entropy(x, y, **kwargs)
    loss.sum().backward()
    tz = torch.tensor(z, requires_grad=True)
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    tloss = torch.nn.functional.cross_entropy(tz, torch.tensor(y), **tkw)
    tloss.sum().backward()
    np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.data, tz.grad.numpy(), atol=1e-12)


def test_bce_with_logits_and_logsigmoid_match_torch():
    z = np.concatenate([rng.standard_normal(6) * 5, [1e4, -1e4]])
    y = rng.random(8)
    pw = np.full(8, 2.5)
    ours = F.binary_cross_entropy_with_logits(Tensor(z), y, pos_weight=pw, reduction="none")
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(z), torch.tensor(y), pos_weight=torch.tensor(pw), reduction="none")
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.logsigmoid(Tensor(z)).data,
                               torch.nn.functional.logsigmoid(torch.tensor(z)).numpy(),
                               rtol=1e-12)


def test_linear_init_has_torchs_bounds():
    ours = nn.Linear(30, 200)
    theirs = torch.nn.Linear(30, 200)
    for a, b in ((ours.weight.data, theirs.weight), (ours.bias.data, theirs.bias)):
        bound = b.detach().abs().max().item()
        assert np.abs(a).max() <= 1 / np.sqrt(30) and bound <= 1 / np.sqrt(30)
        assert abs(np.abs(a).max() - bound) < 0.05 / np.sqrt(30)
