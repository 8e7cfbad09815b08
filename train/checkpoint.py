"""Checkpoints: a model, its optimizer and some metadata in one numpy `.npz` file.

    checkpoint.save("runs/x/checkpoint.npz", model, optimizer, epoch=3, config={...})
    meta = checkpoint.load("runs/x/checkpoint.npz", model, optimizer)     # -> {"epoch": 3, ...}

The file is a plain `.npz` (a zip of `.npy` arrays) that numpy, or anyone, can read back
without this code, and that never needs pickle:

    format              "gradspace.checkpoint/1"     (a 0-d unicode array)
    model/<name>        one array per entry of model.state_dict() ("0.weight", "embed.weight")
    optim/structure     JSON: optimizer class, param_groups (hyperparameters, parameter
                        indices), and per-parameter state with numbers inline and arrays by key
    optim/state/<i>/<k> the state arrays (momentum buffers, Adam moments) of parameter i
    meta                JSON of the keyword arguments given to save (a 0-d unicode array)

Safety, the reason for this file's shape:
- Loading uses `np.load(allow_pickle=False)`: a file that needs pickle (so could run code) is
  refused with ValueError.
- Saving writes a temporary file in the same directory and `os.replace`s it onto `path`, an
  atomic rename: a crash or Ctrl-C mid-save leaves the previous checkpoint whole. A process
  killed mid-save (SIGKILL, power loss) cannot remove its temporary file, so the name says whose
  it is, `.<name>.<pid>.<random>.gradspace-tmp`, and the next save or load in that directory
  removes those whose process is gone (`remove_stale_temporaries`).
- Loading reads and checks everything (format, keys, shapes, optimizer type and state) before
  assigning anything: a truncated, foreign or mismatched file raises ValueError naming the
  path and the problem, and leaves the model and optimizer exactly as they were.
"""
import contextlib
import json
import os
import re
import tempfile
import time

import numpy as np

FORMAT = "gradspace.checkpoint/1"
TEMP_SUFFIX = ".gradspace-tmp"
_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[^.]+" + re.escape(TEMP_SUFFIX) + "$")
_WRITING = set()           # this process's temporary files being written right now


@contextlib.contextmanager
def atomic_open(path, mode="wb", **kwargs):
    """Open a temporary file next to `path` for writing; on success it is flushed to disk and
    renamed onto `path` (atomic), on any error or Ctrl-C it is removed and `path` untouched.

        with atomic_open("runs/x/loss.png") as f:
            figure.savefig(f, format="png")
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(directory)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.{os.getpid()}.",
                               suffix=TEMP_SUFFIX)
    _WRITING.add(tmp)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        _WRITING.discard(tmp)
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove_stale_temporaries(directory, min_age=3600.0):
    """Remove the temporary files that killed saves left in `directory`; returns their paths.

    A file is stale when the process named in it is gone (POSIX), or is this process but not
    one of its saves in progress (a process id reused after a reboot or in a new container).
    Where processes cannot be asked about (Windows), a file older than `min_age` seconds is.
    """
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in names:
        match = _TEMP_NAME.match(name)
        path = os.path.join(directory, name)
        if match and path not in _WRITING and _stale(path, int(match.group(1)), min_age):
            with contextlib.suppress(OSError):       # another process may clean it first
                os.unlink(path)
                removed.append(path)
    return removed


def _stale(path, pid, min_age):
    if pid == os.getpid():
        return True                    # not in _WRITING: left by an earlier process of this id
    if os.name != "posix":             # os.kill(pid, 0) would terminate the process on Windows
        with contextlib.suppress(OSError):
            return time.time() - os.path.getmtime(path) > min_age
        return False
    try:
        os.kill(pid, 0)                # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:                    # it exists but belongs to someone else
        return False
    return False


def _to_json(value):
    """json.dumps that also takes numpy numbers and arrays (as Python numbers and lists)."""
    def plain(obj):
        if isinstance(obj, (np.generic, np.ndarray)):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON-serializable")
    return json.dumps(value, default=plain)


def _text(value):
    return np.array(value, dtype=np.str_)          # 0-d unicode, no object dtype


def _arrays(model, optimizer, meta):
    """Everything to write, as a dict of name -> ndarray."""
    try:
        meta_json = _to_json(meta)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"checkpoint.save: the metadata must be JSON-serializable "
                        f"(numbers, strings, lists, dicts): {exc}") from None
    arrays = {"format": _text(FORMAT), "meta": _text(meta_json)}
    for name, value in model.state_dict().items():
        arrays[f"model/{name}"] = np.asarray(getattr(value, "data", value))
    if optimizer is not None:
        sd = optimizer.state_dict()
        state = {}
        for i, buffers in sd["state"].items():
            state[str(i)] = {}
            for key, value in buffers.items():
                if isinstance(value, np.ndarray):
                    arrays[f"optim/state/{i}/{key}"] = value
                    state[str(i)][key] = {"array": f"optim/state/{i}/{key}"}
                else:
                    state[str(i)][key] = value
        structure = {"type": type(optimizer).__name__, "param_groups": sd["param_groups"],
                     "state": state}
        arrays["optim/structure"] = _text(_to_json(structure))
    return arrays


def save(path, model, optimizer=None, **meta):
    """Write model (+ optimizer) state and `meta` (JSON-serializable) to `path` atomically.

    The file is written to a temporary file next to `path`, flushed to disk, then renamed onto
    `path`; on any error the temporary file is removed and a previous `path` is untouched.
    Returns the path.
    """
    path = os.fspath(path)
    arrays = _arrays(model, optimizer, meta)      # fails here, before any file is touched
    with atomic_open(path) as f:
        np.savez(f, **arrays)
    return path


def _read(path):
    """All arrays of the file, or ValueError saying why it is not a readable checkpoint."""
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - BadZipFile, pickle refused, garbage: unreadable
        raise ValueError(f"checkpoint.load: {path} is not a readable checkpoint "
                         f"({type(exc).__name__}: {exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(  # noqa: TRY004 - a bad file is a bad value: load promises ValueError
            f"checkpoint.load: {path} is a single .npy array, not a checkpoint (.npz archive)")
    try:
        with archive:
            return {name: archive[name] for name in archive.files}
    except Exception as exc:  # noqa: BLE001 - a truncated member, or one that needs pickle
        raise ValueError(f"checkpoint.load: {path} is damaged or unsafe: could not read "
                         f"its arrays ({type(exc).__name__}: {exc})") from None


def _json(arrays, key, path):
    value = arrays[key]
    if value.ndim != 0 or value.dtype.kind != "U":
        raise ValueError(f"checkpoint.load: {path}: entry {key!r} should be a JSON string, "
                         f"got a {value.dtype} array of shape {value.shape}")
    try:
        return json.loads(value.item())
    except json.JSONDecodeError as exc:
        raise ValueError(f"checkpoint.load: {path}: entry {key!r} is not valid JSON "
                         f"({exc})") from None


def _optimizer_state(arrays, optimizer, path):
    """The optimizer's state dict rebuilt from the file and checked, the optimizer unchanged."""
    if "optim/structure" not in arrays:
        raise ValueError(f"checkpoint.load: {path} holds no optimizer state (it was saved "
                         f"without an optimizer); load it with optimizer=None")
    structure = _json(arrays, "optim/structure", path)
    kind = type(optimizer).__name__
    if not isinstance(structure, dict) or structure.get("type") != kind:
        saved_kind = structure.get("type") if isinstance(structure, dict) else None
        raise ValueError(f"checkpoint.load: {path} holds the state of a {saved_kind} "
                         f"optimizer, not of this {kind}")
    state = {}
    for i, buffers in structure.get("state", {}).items():
        state[int(i)] = {}
        for key, value in buffers.items():
            if isinstance(value, dict) and "array" in value:
                if value["array"] not in arrays:
                    raise ValueError(f"checkpoint.load: {path} lacks the array "
                                     f"{value['array']!r} that its optimizer state names")
                value = arrays[value["array"]]
            state[int(i)][key] = value
    sd = {"state": state, "param_groups": structure.get("param_groups", [])}
    try:
        optimizer.validate_state_dict(sd)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"checkpoint.load: {path} does not fit this optimizer: "
                         f"{exc}") from None
    return sd


def load(path, model, optimizer=None):
    """Load the checkpoint at `path` into `model` (and `optimizer`); returns the metadata.

    Raises ValueError naming the path and the problem, changing nothing, when the file is not
    a readable gradspace checkpoint or does not fit the model or optimizer.
    """
    path = os.fspath(path)
    remove_stale_temporaries(os.path.dirname(os.path.abspath(path)))
    arrays = _read(path)
    if "format" not in arrays:
        raise ValueError(f"checkpoint.load: {path} is a .npz file but not a gradspace "
                         f"checkpoint (no 'format' entry; it holds {sorted(arrays)[:5]})")
    fmt = arrays["format"]
    if fmt.ndim != 0 or fmt.dtype.kind != "U" or fmt.item() != FORMAT:
        raise ValueError(f"checkpoint.load: {path} has format {fmt!r}, expected {FORMAT!r}")
    meta = _json(arrays, "meta", path) if "meta" in arrays else {}
    model_sd = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    optim_sd = _optimizer_state(arrays, optimizer, path) if optimizer is not None else None
    # Everything but the model is checked. Module.load_state_dict checks every key, shape and
    # dtype before it copies the first number, so it either loads all or raises having
    # changed nothing; the optimizer, already checked, is loaded only after it.
    try:
        model.load_state_dict(model_sd)
    except (RuntimeError, TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"checkpoint.load: {path} does not fit this model (nothing was "
                         f"loaded): {exc}") from None
    if optimizer is not None:
        optimizer.load_state_dict(optim_sd)
    return meta
