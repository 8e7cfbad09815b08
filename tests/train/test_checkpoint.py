"""Checkpoints: a round trip continues training identically; bad files raise a clear error and
change nothing; a crash mid-save leaves the previous checkpoint whole; pickle is never run."""
import os
import pickle

import numpy as np
import pytest

import gradspace.nn.functional as F
from gradspace import nn
from gradspace.autograd import Tensor, manual_seed
from gradspace.train import checkpoint
from gradspace.train.optim import SGD, Adam

IDS = np.array([[1, 2], [3, 3], [0, 4]])
TARGETS = np.array([0, 2, 1])


def make(seed, hidden=4):
    manual_seed(seed)
    return nn.Sequential(nn.Embedding(5, 3), nn.Flatten(), nn.Linear(6, hidden))


def train_steps(model, opt, n):
    for _ in range(n):
        opt.zero_grad()
        F.cross_entropy(model(IDS), TARGETS).backward()
        opt.step()


def snapshot(model, opt=None):
    state = {k: v.copy() for k, v in model.state_dict().items()}
    if opt is not None:
        sd = opt.state_dict()
        for i, buffers in sd["state"].items():
            for k, v in buffers.items():
                state[f"opt/{i}/{k}"] = np.copy(v)
        state["groups"] = repr(sd["param_groups"])
    return state


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


@pytest.fixture
def trained():
    model = make(0)
    opt = Adam(model.parameters(), lr=0.05, amsgrad=True)
    train_steps(model, opt, 3)
    return model, opt


def test_round_trip_restores_everything_and_continues_identically(tmp_path, trained):
    model, opt = trained
    path = tmp_path / "ckpt.npz"
    meta = {"epoch": 3, "config": {"dim": 3, "name": "x"}, "losses": [1.5, 1.25]}
    assert checkpoint.save(path, model, opt, **meta) == str(path)
    other = make(1)
    other_opt = Adam(other.parameters(), lr=0.9)
    assert checkpoint.load(path, other, other_opt) == meta
    assert_same(snapshot(other, other_opt), snapshot(model, opt))
    train_steps(model, opt, 4)
    train_steps(other, other_opt, 4)
    assert_same(snapshot(other, other_opt), snapshot(model, opt))


def test_the_file_is_plain_npz_without_pickle(tmp_path, trained):
    model, opt = trained
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, model, opt, epoch=1)
    with np.load(path, allow_pickle=False) as f:
        names = set(f.files)
        assert all(f[n].dtype != object for n in names)
        assert str(f["format"]) == "gradspace.checkpoint/1"
    assert {"format", "meta", "model/0.weight", "model/2.weight", "model/2.bias",
            "optim/structure", "optim/state/0/exp_avg", "optim/state/2/max_exp_avg_sq"} <= names


def test_model_only_checkpoints(tmp_path, trained):
    model, opt = trained
    path = tmp_path / "model.npz"
    checkpoint.save(path, model)
    other = make(1)
    assert checkpoint.load(path, other) == {}
    assert_same(snapshot(other), snapshot(model))
    before = snapshot(other, opt)
    with pytest.raises(ValueError, match="no optimizer state"):
        checkpoint.load(path, other, opt)
    assert_same(snapshot(other, opt), before)


def assert_refused(path, model, opt, match):
    before = snapshot(model, opt)
    with pytest.raises(ValueError, match=match) as error:
        checkpoint.load(path, model, opt)
    assert str(path) in str(error.value)
    assert_same(snapshot(model, opt), before)


def test_a_truncated_file_raises_and_changes_nothing(tmp_path, trained):
    model, opt = trained
    good = tmp_path / "good.npz"
    checkpoint.save(good, make(2), Adam(make(2).parameters()), epoch=9)
    data = good.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        assert_refused(bad, model, opt, "not a readable checkpoint")
    flipped = bytearray(data)                  # the index is intact, an array's bytes are not
    flipped[len(data) // 3:len(data) // 3 + 40] = bytes(40)
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    assert_refused(tmp_path / "flipped.npz", model, opt, "damaged")


def test_a_foreign_npz_or_npy_or_text_file_is_refused(tmp_path, trained):
    model, opt = trained
    np.savez(tmp_path / "foreign.npz", weights=np.ones(3))
    assert_refused(tmp_path / "foreign.npz", model, opt, "not a gradspace checkpoint")
    np.save(tmp_path / "single.npy", np.ones(3))
    assert_refused(tmp_path / "single.npy", model, opt, "single .npy array")
    (tmp_path / "notes.txt").write_text("hello")
    assert_refused(tmp_path / "notes.txt", model, opt, "not a readable checkpoint")
    with pytest.raises(FileNotFoundError):
        checkpoint.load(tmp_path / "missing.npz", model, opt)


class Evil:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_file_that_needs_pickle_is_refused_without_running_it(tmp_path, trained):
    model, opt = trained
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    checkpoint.save(path, model, opt)
    with np.load(path) as f:
        entries = {k: f[k] for k in f.files}
    entries["model/0.weight"] = np.array([Evil(str(marker))], dtype=object)
    np.savez(path, **entries)
    assert_refused(path, model, opt, "pickle")
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps(Evil(str(marker))))
    assert_refused(raw, model, opt, "not a readable checkpoint")
    assert not marker.exists()


def test_wrong_shapes_or_optimizer_raise_and_change_nothing(tmp_path, trained):
    model, opt = trained
    wide = make(3, hidden=5)
    wide_opt = Adam(wide.parameters(), amsgrad=True)
    train_steps(wide, wide_opt, 1)
    checkpoint.save(tmp_path / "wide.npz", wide, wide_opt)
    assert_refused(tmp_path / "wide.npz", model, opt, "does not fit")
    checkpoint.save(tmp_path / "sgd.npz", model, SGD(model.parameters(), lr=0.1))
    assert_refused(tmp_path / "sgd.npz", model, opt, "SGD optimizer, not of this Adam")
    mine = tmp_path / "mine.npz"
    checkpoint.save(mine, model, opt)
    with np.load(mine) as f:
        entries = {k: f[k] for k in f.files}
    entries["optim/state/2/exp_avg"] = np.zeros((7, 7), np.float32)
    np.savez(tmp_path / "bad_state.npz", **entries)
    assert_refused(tmp_path / "bad_state.npz", make(4), opt, "shape")


def test_metadata_must_be_json(tmp_path, trained):
    model, opt = trained
    with pytest.raises(TypeError, match="JSON"):
        checkpoint.save(tmp_path / "x.npz", model, opt, when=object())
    assert list(tmp_path.iterdir()) == []
    checkpoint.save(tmp_path / "y.npz", model, opt, lr=np.float32(0.5), shape=np.arange(2))
    assert checkpoint.load(tmp_path / "y.npz", model, opt) == {"lr": 0.5, "shape": [0, 1]}


@pytest.mark.parametrize("where", ["savez", "replace"])
def test_a_crash_mid_save_leaves_the_previous_checkpoint_intact(tmp_path, trained, monkeypatch,
                                                                  where):
    model, opt = trained
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, model, opt, epoch=1)
    saved = snapshot(model, opt)
    train_steps(model, opt, 2)

    def savez_then_crash(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    def no_replace(src, dst):
        raise KeyboardInterrupt     # Ctrl-C at the worst moment

    if where == "savez":
        monkeypatch.setattr(np, "savez", savez_then_crash)
    else:
        monkeypatch.setattr(os, "replace", no_replace)
    with pytest.raises((OSError, KeyboardInterrupt)):
        checkpoint.save(path, model, opt, epoch=2)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz"]   # no temp file left
    fresh = make(5)
    fresh_opt = Adam(fresh.parameters())
    assert checkpoint.load(path, fresh, fresh_opt) == {"epoch": 1}
    assert_same(snapshot(fresh, fresh_opt), saved)


def test_save_creates_the_folder(tmp_path, trained):
    model, _ = trained
    path = tmp_path / "runs" / "deep" / "c.npz"
    checkpoint.save(path, model)
    assert path.exists()
    out = make(6)
    checkpoint.load(path, out)
    assert np.array_equal(out(Tensor(IDS)).data, model(Tensor(IDS)).data)
