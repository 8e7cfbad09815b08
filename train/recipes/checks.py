"""Every setting of a recipe is checked before any work, so a bad one costs nothing.

A bad value raises `ConfigError` with one line naming the flag, the value and what is allowed
(`--dim 0: must be an integer >= 1`); the command line prints it and exits 2. Config fields are
named by their flags (`emb_dim` is `--emb-dim`), which is what a command-line user typed; a
Python user sees the same names with dashes.
"""
import math
import os
from pathlib import Path

from gradspace.train.data import load_corpus


class RecipeError(Exception):
    """A problem the user can fix (a bad flag, --resume without a checkpoint): printed as one
    line, no traceback."""


class ConfigError(RecipeError, ValueError):
    """A setting or input that cannot work; raised before anything is written (exit status 2)."""


class TrainingFailed(RecipeError):
    """Training ran but gave no useful model: it diverged or learned nothing (exit status 1)."""


def flag(field):
    return "--" + field.replace("_", "-")


def fail(field, value, allowed):
    raise ConfigError(f"{flag(field)} {value}: {allowed}")


def integers(config, minimum, *fields):
    """Each field an int (not a bool) >= minimum."""
    for field in fields:
        value = getattr(config, field)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            fail(field, value, f"must be an integer >= {minimum}")


def positive_numbers(config, *fields):
    """Each field a finite number > 0."""
    for field in fields:
        value = getattr(config, field)
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or value <= 0):
            fail(field, value, "must be a finite number > 0")


def fraction(config, field):
    value = getattr(config, field)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        fail(field, value, "must be a number strictly between 0 and 1")


def common(config):
    """The settings every recipe has: epochs (None: the recipe's choice), batch size, learning
    rate, seed."""
    integers(config, 1, "batch_size", *(["epochs"] if config.epochs is not None else []))
    positive_numbers(config, "lr")
    integers(config, 0, "seed")


def read_corpus(path):
    """The text of --corpus (None: the shipped corpus), or ConfigError saying what is wrong
    with the file: missing, a directory, unreadable, not UTF-8 text, or empty."""
    if path is None:
        return load_corpus()
    path = Path(path)
    if not path.exists():
        fail("corpus", path, "no such file")
    if path.is_dir():
        fail("corpus", path, "is a directory; give a UTF-8 text file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail("corpus", path, f"cannot be read ({exc.strerror or exc})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail("corpus", path, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                             f"{exc.start}); convert it, e.g. with iconv -t UTF-8")
    if "\x00" in text:
        fail("corpus", path, f"is not text (a NUL byte at offset {text.index(chr(0))})")
    if not text.strip():
        fail("corpus", path, "is empty" if not text else "holds only whitespace")
    return text.removeprefix("\ufeff")           # a byte-order mark is not a character


def writable_folder(out):
    """Create --out if needed and write a probe file into it; returns the folders this made
    (innermost last) so a refused run can remove them again. ConfigError when it cannot."""
    out = Path(out)
    made = []
    for folder in reversed((out, *out.parents)):
        if not folder.exists():
            made.append(folder)
    try:
        if out.exists() and not out.is_dir():
            fail("out", out, "is a file, not a folder")
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".probe.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        remove_empty(made)
        fail("out", out, f"cannot be written ({exc.strerror or exc})")
    return made


def remove_empty(folders):
    """Remove the folders (innermost last) that are still empty; never anything else."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            break
