"""The command line refuses what cannot work before any work: one line on stderr naming the
flag, the value and what is allowed, exit status 2, no traceback, nothing written. Training
that diverges or learns nothing fails (exit 1); a folder holding a run is not overwritten; a
Ctrl-C in any phase says what was saved and leaves a folder that --resume completes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradspace.train import checkpoint
from gradspace.train.cli import main
from gradspace.train.recipes import charlm, checks, common, skipgram

HARBOUR = Path(__file__).resolve().parents[1] / "data" / "harbour.txt"
FAST = ["--no-progress", "--epochs", "1"]


def cli(argv, capsys):
    """(exit status, stdout, stderr) of `gradspace <argv>` run in this process."""
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:               # argparse's own errors
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def tree(folder):
    """Every path under folder with its bytes: what "nothing written" compares."""
    return {p: p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    """A scratch working folder holding bad inputs of every kind."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait\nun autre\n".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blank.txt").write_text(" \n\n\t\n")
    (tmp_path / "binary.txt").write_bytes(b"ab\x00cd\nef\n")
    (tmp_path / "one_line.txt").write_text("a single line of text\n")
    (tmp_path / "short.txt").write_text("ab\ncd\n")
    (tmp_path / "one_word_lines.txt").write_text("alpha\nbeta\ngamma\n")
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "folder").mkdir()
    return tmp_path


BAD = [  # (command line, the flag the message must name)
    ("skipgram --dim 0", "--dim"),
    ("skipgram --dim -3", "--dim"),
    ("skipgram --window 0", "--window"),
    ("skipgram --min-count 0", "--min-count"),
    ("skipgram --epochs 0", "--epochs"),
    ("charlm --epochs -1", "--epochs"),
    ("skipgram --batch-size 0", "--batch-size"),
    ("charlm --batch-size -5", "--batch-size"),
    ("skipgram --lr 0", "--lr"),
    ("skipgram --lr -0.1", "--lr"),
    ("skipgram --lr nan", "--lr"),
    ("charlm --lr inf", "--lr"),
    ("skipgram --seed -1", "--seed"),
    ("charlm --seed -2", "--seed"),
    ("charlm --hidden 0", "--hidden"),
    ("charlm --block-size 0", "--block-size"),
    ("charlm --emb-dim 0", "--emb-dim"),
    ("charlm --temperature 0", "--temperature"),
    ("charlm --temperature -1", "--temperature"),
    ("charlm --temperature nan", "--temperature"),
    ("charlm --val-fraction 0", "--val-fraction"),
    ("charlm --val-fraction 1", "--val-fraction"),
    ("skipgram --words zzyzx,cat", "--words"),
    ("skipgram --corpus missing.txt", "--corpus"),
    ("skipgram --corpus folder", "--corpus"),
    ("skipgram --corpus latin1.txt", "--corpus"),
    ("charlm --corpus empty.txt", "--corpus"),
    ("skipgram --corpus blank.txt", "--corpus"),
    ("charlm --corpus binary.txt", "--corpus"),
    ("charlm --corpus one_line.txt", "--corpus"),
    ("charlm --corpus short.txt --block-size 8", "--corpus"),
    ("skipgram --corpus one_word_lines.txt", "--corpus"),
    ("skipgram --out a_file", "--out"),
    ("charlm --out a_file/run", "--out"),
    ("skipgram --resume", "--out"),                  # no run there to continue
    # argparse's own refusals, on one line too
    ("skipgram --dim x", "--dim"),
    ("skipgram --loss hinge", "--loss"),
    ("skipgram --force --resume", "--resume"),
    ("charlm --no-such-flag", "--no-such-flag"),
]


@pytest.mark.parametrize("command, flag", BAD)
def test_every_bad_value_is_one_line_exit_2_and_nothing_written(inputs, capsys, command,
                                                                 flag):
    before = tree(inputs)
    argv = command.split()
    if "--out" not in argv:
        argv += ["--out", "runs/new/run"]          # a folder the run would have made
    status, out, err = cli(argv, capsys)
    assert status == 2
    assert len(err.strip().splitlines()) == 1, err
    assert flag in err and "error" in err and "Traceback" not in err
    value = argv[argv.index(flag) + 1] if flag in argv and flag != argv[-1] else None
    if value and not value.startswith("--"):
        assert value in err                         # the value that was refused
    assert out == ""
    assert tree(inputs) == before                   # no run folder, no probe, nothing


def test_messages_say_what_is_allowed_and_how_much_is_needed(inputs, capsys):
    def error(command):
        return cli(command.split() + ["--out", "x"], capsys)[2]
    assert "integer >= 1" in error("skipgram --dim 0")
    assert "finite number > 0" in error("skipgram --lr nan")
    assert "integer >= 0" in error("skipgram --seed -1")
    assert "UTF-8" in error("skipgram --corpus latin1.txt")
    assert "at least 2" in error("charlm --corpus one_line.txt")
    assert "at least 9" in error("charlm --corpus short.txt --block-size 8")
    assert "already holds a run" not in error("skipgram --dim 0")


def test_the_real_command_refuses_on_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gradspace", "charlm", "--temperature", "0",
                             "--out", tmp_path / "run"], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == ("gradspace charlm: error: --temperature 0.0: must be a "
                                     "finite number > 0")
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_a_folder_holding_a_run_is_refused_unless_force_or_resume(inputs, capsys):
    run = inputs / "runs" / "mine"
    run.mkdir(parents=True)
    (run / "checkpoint.npz").write_bytes(b"an earlier run")
    before = tree(inputs)
    status, _, err = cli(["skipgram", "--out", run, *FAST], capsys)
    assert status == 2 and "already holds a run" in err and "--force" in err
    assert tree(inputs) == before
    status, _, err = cli(["skipgram", "--out", run, "--resume", *FAST], capsys)
    assert status == 2 and "not a readable checkpoint" in err     # refused, nothing lost
    assert tree(inputs) == before


def test_default_run_folders_depend_on_recipe_and_loss():
    assert skipgram.default_out(skipgram.Config()) == "runs/skipgram-negative"
    assert skipgram.default_out(skipgram.Config(loss="softmax")) == "runs/skipgram-softmax"
    assert charlm.default_out(charlm.Config()) == "runs/charlm"


def test_force_replaces_a_run_and_leaves_only_the_new_runs_files(inputs, capsys):
    run = inputs / "runs" / "charlm"
    run.mkdir(parents=True)
    for name in ("checkpoint.npz", "embeddings.png", "neighbors.txt"):   # a skipgram run
        (run / name).write_bytes(b"old")
    status, out, err = cli(["charlm", "--corpus", HARBOUR, "--block-size", "3", "--hidden",
                            "32", "--force", *FAST], capsys)
    assert status == 0, err
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.npz", "loss.png",
                                                     "samples.txt", "vocab.json"]
    assert checkpoint.load(run / "checkpoint.npz", charlm.CharMLP(
        len(charlm.Vocab.load(run / "vocab.json")), 3, 16, 32))["epoch"] == 1


@pytest.mark.parametrize("lr", ["1e9", "1000"])
def test_a_diverging_loss_stops_the_run_with_the_step_and_a_hint(inputs, capsys, lr):
    status, out, err = cli(["skipgram", "--corpus", HARBOUR, "--lr", lr, "--out", "run",
                            "--no-progress", "--epochs", "3"], capsys)
    assert status == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "diverged" in err and "step" in err and "smaller --lr" in err
    assert "done" not in out and "wrote" not in out


def test_a_run_that_learns_nothing_does_not_report_success(inputs, capsys):
    status, out, err = cli(["skipgram", "--corpus", HARBOUR, "--lr", "1e-9", "--out", "run",
                            *FAST], capsys)
    assert status == 1 and "learned nothing" in err and "--lr" in err
    assert "done" not in out


def test_embeddings_that_separate_nothing_do_not_report_success(inputs, capsys):
    # Five epochs of 18 steps on 2,400 words: every word still points the same way.
    status, out, err = cli(["skipgram", "--corpus", HARBOUR, "--epochs", "3", "--out", "run",
                            "--no-progress"], capsys)
    assert status == 1 and "did not separate" in err and "--epochs" in err


def test_ctrl_c_before_training_saves_nothing_and_leaves_no_folder(inputs, capsys,
                                                                  monkeypatch):
    def interrupted(path):
        raise KeyboardInterrupt
    monkeypatch.setattr(checks, "read_corpus", interrupted)
    before = tree(inputs)
    status, _, err = cli(["charlm", "--out", "runs/new", *FAST], capsys)
    assert status == 130 and "nothing was saved" in err
    assert tree(inputs) == before


def test_ctrl_c_while_writing_the_results_says_what_was_saved_and_resume_completes(
        inputs, capsys, monkeypatch):
    run = inputs / "run"
    argv = ["charlm", "--corpus", HARBOUR, "--block-size", "3", "--hidden", "32", "--out", run,
            *FAST]
    save_figure = common.save_figure

    def interrupted(fig, folder, name, dpi):
        with folder.write(name) as f:
            f.write(b"half a picture")
            raise KeyboardInterrupt
    monkeypatch.setattr(common, "save_figure", interrupted)
    status, _, err = cli(argv, capsys)
    assert status == 130
    assert "interrupted while writing the results" in err
    assert "holds checkpoint.npz, vocab.json" in err and "not written: loss.png, samples.txt" in err
    assert sorted(os.listdir(run)) == ["checkpoint.npz", "vocab.json"]   # whole files only
    monkeypatch.setattr(common, "save_figure", save_figure)
    status, out, err = cli([*argv, "--resume"], capsys)
    assert status == 0, err
    assert "nothing left to train" in out
    assert sorted(os.listdir(run)) == ["checkpoint.npz", "loss.png", "samples.txt", "vocab.json"]


def test_help_explains_the_hold_out_the_words_and_the_exit_status(capsys):
    for command, words in (("charlm", ["random", "--seed", "--val-fraction"]),
                           ("skipgram", ["--words", "--export-projector", "content words"])):
        status, out, _ = cli([command, "--help"], capsys)
        assert status == 0
        for word in [*words, "--force", "--resume", "exit status"]:
            assert word in out, (command, word)


def test_ctrl_c_while_saving_a_checkpoint_keeps_a_whole_one_and_says_so(inputs, capsys,
                                                                      monkeypatch):
    run = inputs / "run"
    save = checkpoint.save
    calls = []

    def interrupted_once(path, *args, **meta):
        calls.append(meta["interrupted"])
        if len(calls) == 1:                  # the end-of-epoch save, cut short by Ctrl-C
            with checkpoint.atomic_open(path) as f:
                f.write(b"PK half")
                raise KeyboardInterrupt
        return save(path, *args, **meta)
    monkeypatch.setattr(checkpoint, "save", interrupted_once)
    status, _, err = cli(["charlm", "--corpus", HARBOUR, "--block-size", "3", "--hidden", "32",
                          "--out", run, "--no-progress", "--epochs", "2"], capsys)
    assert status == 130 and calls == [False, True]
    assert "interrupted: saved" in err and "1 complete epochs" in err and "--resume" in err
    assert os.listdir(run) == ["checkpoint.npz"]
    train_text, _ = charlm.check(charlm.Config(corpus=str(HARBOUR), block_size=3))
    vocab = charlm.Vocab(charlm.tokenize(train_text, "char"))
    meta = checkpoint.load(run / "checkpoint.npz", charlm.CharMLP(len(vocab), 3, 16, 32))
    assert meta["epoch"] == 1 and meta["interrupted"] is True
