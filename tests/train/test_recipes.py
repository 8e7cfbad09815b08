"""The recipes on the shipped corpus: skip-gram recovers the word classes, the character MLP
beats log V by a wide margin, the command line writes every output, Ctrl-C saves a checkpoint
and --resume continues (exactly, from an epoch boundary)."""
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gradspace.train import checkpoint
from gradspace.train.recipes import charlm, skipgram

ROOT = Path(__file__).resolve().parents[2]


def small_skipgram(tmp_path, **kw):
    settings = dict(dim=16, epochs=1, batch_size=2048, lr=0.03, out=str(tmp_path / "sg"),
                    progress=False)
    return skipgram.Config(**{**settings, **kw})


@pytest.mark.parametrize("loss", ["softmax", "negative"])
def test_skipgram_recovers_the_word_classes(tmp_path, loss):
    result = skipgram.run(small_skipgram(tmp_path, loss=loss))
    assert result.metrics["labelled_words"] > 100
    assert result.metrics["class_purity"] >= 0.9
    assert result.history.train_losses[-1] < result.history.step_losses[0]
    for name, path in result.files.items():
        assert path.exists() and path.stat().st_size > 0, name
    table = result.files["neighbors"].read_text()
    assert "[animals]" in table and "\ncat " in table


def test_charlm_beats_log_v_by_a_wide_margin(tmp_path):
    config = charlm.Config(block_size=4, emb_dim=8, hidden=64, epochs=1, batch_size=1024,
                           lr=1e-2, out=str(tmp_path / "cl"), progress=False, samples=2,
                           sample_length=80)
    result = charlm.run(config)
    m = result.metrics
    assert m["log_vocab"] == pytest.approx(math.log(len(result.vocab)))
    assert m["val_loss"] < m["log_vocab"] - 2.0            # 3.37 nats for 29 characters
    assert m["val_loss"] < 0.5 * m["unigram_loss"]          # context helps, not just counts
    assert result.history.eval_losses[-1] == pytest.approx(m["val_loss"], rel=1e-4)
    assert len(result.samples) == 2 and all(len(s) == 80 for s in result.samples)
    assert set("".join(result.samples)) <= set(result.vocab.itos[1:])
    text = result.files["samples"].read_text()
    assert result.samples[0] in text


def test_sampling_is_seeded_and_temperature_sharpens(tmp_path):
    vocab = charlm.Vocab(list("ab\n"))
    model = charlm.CharMLP(len(vocab), 2, 3, 4)
    model.out.bias.data[:] = 0.0
    model.out.bias.data[vocab["a"]] = 2.0
    a = charlm.sample(model, vocab, 200, temperature=1.0, seed=3)
    assert a == charlm.sample(model, vocab, 200, temperature=1.0, seed=3)
    cold = charlm.sample(model, vocab, 200, temperature=0.05, seed=3)
    assert cold.count("a") > a.count("a") and "<unk>" not in a
    with pytest.raises(ValueError, match="temperature"):
        charlm.sample(model, vocab, 5, temperature=0)


def interrupt_at(epoch, step):
    def callback(event, info):
        if event == "step" and info["epoch"] == epoch and info["step"] == step:
            raise KeyboardInterrupt
    return callback


def test_ctrl_c_saves_a_checkpoint_and_resume_finishes_the_run(tmp_path, capsys):
    config = small_skipgram(tmp_path, dim=8, epochs=2)
    with pytest.raises(KeyboardInterrupt):
        skipgram.run(config, callbacks=[interrupt_at(epoch=1, step=10)])
    assert "--resume" in capsys.readouterr().err
    path = Path(config.out) / "checkpoint.npz"
    model = skipgram.SkipGram(177, 8)
    meta = checkpoint.load(path, model)
    assert meta["epoch"] == 1 and meta["interrupted"] is True
    assert len(meta["history"]["step_losses"]) == meta["history"]["epoch_ends"][0] + 11
    config.resume = True
    result = skipgram.run(config)
    assert "resuming" in capsys.readouterr().out
    assert result.history.epochs == 2
    final = checkpoint.load(path, model)
    assert final["epoch"] == 2 and final["interrupted"] is False


@pytest.mark.parametrize("recipe, config", [
    (skipgram, dict(loss="negative", dim=8, batch_size=2048, lr=0.03)),   # learns in 1 epoch
    (charlm, dict(block_size=3, emb_dim=4, hidden=16, batch_size=2048, samples=0))])
def test_resuming_from_an_epoch_boundary_is_exact(tmp_path, recipe, config):
    def make(out, epochs, resume=False):
        return recipe.Config(**config, epochs=epochs, out=str(tmp_path / out), resume=resume,
                             progress=False)

    straight = recipe.run(make("a", 2))
    recipe.run(make("b", 1))
    resumed = recipe.run(make("b", 2, resume=True))
    assert resumed.history.to_dict()["step_losses"] == straight.history.to_dict()["step_losses"]
    for (name, a), b in zip(straight.model.state_dict().items(),
                            resumed.model.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(skipgram.common.RecipeError, match="no checkpoint"):
        skipgram.run(small_skipgram(tmp_path, resume=True))


# -- the command line, as a user runs it --------------------------------------------------------

def python_m_train(*args, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "gradspace", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout, check=False, **kw)


def test_help_lists_the_recipes_and_their_flags():
    top = python_m_train("--help")
    assert top.returncode == 0 and "skipgram" in top.stdout and "charlm" in top.stdout
    sg = python_m_train("skipgram", "--help")
    for flag in ("--corpus", "--dim", "--epochs", "--batch-size", "--lr", "--seed", "--out",
                 "--loss", "--resume"):
        assert flag in sg.stdout
    cl = python_m_train("charlm", "--help")
    assert "--block-size" in cl.stdout and "--hidden" in cl.stdout
    assert python_m_train("skipgram", "--loss", "hinge").returncode == 2


def test_a_tiny_run_from_the_command_line_writes_every_output(tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("the cat sat on the mat.\nthe dog sat on the log.\n" * 200)
    out = tmp_path / "cl"
    run = python_m_train("charlm", "--corpus", str(corpus), "--epochs", "1", "--block-size",
                         "3", "--hidden", "16", "--out", str(out), "--no-progress")
    assert run.returncode == 0, run.stderr
    for name in ("checkpoint.npz", "vocab.json", "loss.png", "samples.txt"):
        assert (out / name).stat().st_size > 0
    assert str(out) in run.stdout and "validation loss" in run.stdout
    out = tmp_path / "sg"
    run = python_m_train("skipgram", "--epochs", "1", "--dim", "8", "--out", str(out),
                         "--no-progress", "--seed", "3")
    assert run.returncode == 0, run.stderr
    for name in ("checkpoint.npz", "vocab.json", "loss.png", "embeddings.png", "neighbors.txt"):
        assert (out / name).stat().st_size > 0
    assert "class purity" in run.stdout and str(out) in run.stdout


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_a_real_ctrl_c_exits_130_with_a_checkpoint_and_resume_continues(tmp_path):
    out = tmp_path / "sg"
    args = ["skipgram", "--dim", "8", "--batch-size", "2048", "--out", str(out),
            "--no-progress"]
    proc = subprocess.Popen([sys.executable, "-m", "gradspace", *args, "--epochs", "500"],
                            cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    ckpt = out / "checkpoint.npz"
    deadline = time.monotonic() + 90
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)                       # the first epoch's checkpoint: training is on
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "--resume" in stderr
    meta = checkpoint.load(ckpt, skipgram.SkipGram(177, 8))
    assert meta["interrupted"] is True and meta["epoch"] >= 1
    done = python_m_train(*args, "--epochs", str(meta["epoch"] + 1), "--resume")
    assert done.returncode == 0, done.stderr
    assert f"after epoch {meta['epoch']}" in done.stdout
    assert checkpoint.load(ckpt, skipgram.SkipGram(177, 8))["epoch"] == meta["epoch"] + 1


@pytest.mark.parametrize("module, level", [(skipgram, "word"), (charlm, "char")])
def test_build_model_gives_a_runs_initial_weights_every_time(module, level):
    from gradspace.train.data import Vocab, tokenize
    vocab = Vocab(tokenize("the cat sat.\nthe dog ran.\n", level))
    first = module.build_model(module.Config(seed=3), vocab).state_dict()
    again = module.build_model(module.Config(seed=3), vocab).state_dict()
    other = module.build_model(module.Config(seed=4), vocab).state_dict()
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert any(not np.array_equal(first[k], other[k]) for k in first)
