"""A save killed halfway leaves its temporary file behind; the next save or load in that folder
removes it, and never a temporary file that a live process is still writing."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gradspace import nn
from gradspace.train import checkpoint
from gradspace.train.data import Vocab


def dead_pid():
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def temp_name(target, pid):
    return f".{target}.{pid}.abc123{checkpoint.TEMP_SUFFIX}"


@pytest.mark.skipif(os.name != "posix", reason="asks whether a process id is alive")
@pytest.mark.parametrize("action", ["save", "load", "vocab"])
def test_the_next_save_or_load_removes_what_a_dead_process_left(tmp_path, action):
    stale = tmp_path / temp_name("checkpoint.npz", dead_pid())
    stale.write_bytes(b"PK\x03\x04 half a zip")
    live = tmp_path / temp_name("checkpoint.npz", os.getppid())     # pytest's parent: alive
    live.write_bytes(b"still being written")
    other = tmp_path / ".checkpoint.npz.123.abc.tmp"                # not ours: never touched
    other.write_bytes(b"someone else's")
    model = nn.Linear(2, 3)
    if action == "save":
        checkpoint.save(tmp_path / "checkpoint.npz", model)
    elif action == "load":
        with pytest.raises(FileNotFoundError):
            checkpoint.load(tmp_path / "checkpoint.npz", model)
    else:
        Vocab(["a", "b"]).save(tmp_path / "vocab.json")
    assert not stale.exists()
    assert live.exists() and other.exists()


def test_a_temporary_file_of_this_process_not_in_progress_is_stale(tmp_path):
    # After a reboot or in a fresh container, process ids repeat: a file named with our own id
    # that we are not writing was left by an earlier process.
    stale = tmp_path / temp_name("checkpoint.npz", os.getpid())
    stale.write_bytes(b"old")
    assert checkpoint.remove_stale_temporaries(tmp_path) == [str(stale)]


def test_an_interrupted_write_leaves_no_temporary_and_the_old_file_whole(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("before")
    with pytest.raises(KeyboardInterrupt), checkpoint.atomic_open(path, "w") as f:
        f.write("half")
        raise KeyboardInterrupt
    assert path.read_text() == "before"
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


@pytest.mark.skipif(os.name != "posix", reason="sends SIGKILL")
def test_a_save_killed_halfway_is_cleaned_by_the_next_load(tmp_path):
    # The real thing: a process killed (SIGKILL: no handler, no finally) while np.savez writes.
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        from gradspace import nn
        from gradspace.train import checkpoint

        def slow_savez(f, **arrays):
            f.write(b"PK" * 1000)
            f.flush()
            print("writing", flush=True)
            time.sleep(60)

        np.savez = slow_savez
        checkpoint.save({str(tmp_path / "checkpoint.npz")!r}, nn.Linear(2, 3))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        left = [n for n in os.listdir(tmp_path) if n.endswith(checkpoint.TEMP_SUFFIX)]
        assert len(left) == 1 and f".{proc.pid}." in left[0]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert not (tmp_path / "checkpoint.npz").exists()
    assert os.listdir(tmp_path) == left                  # the kill left it behind
    with pytest.raises(FileNotFoundError):
        checkpoint.load(tmp_path / "checkpoint.npz", nn.Linear(2, 3))
    assert os.listdir(tmp_path) == []
    checkpoint.save(tmp_path / "checkpoint.npz", nn.Linear(2, 3))
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    np.load(tmp_path / "checkpoint.npz").close()
