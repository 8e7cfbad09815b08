"""A model's state as {dotted name: array}, and loading it back without half-loading.

Keys and order are PyTorch's: for each module in depth-first registration order, its
parameters, then its persistent buffers, under the module's dotted path ("0.weight",
"encoder.embed.weight"). A module or parameter reachable by two paths is saved under both,
as in PyTorch, so a state_dict of tied weights loads into torch unchanged.

Loading is all or nothing: every entry is checked (keys, shapes, dtypes) before the first
number is copied, so a bad checkpoint raises and leaves the model exactly as it was.
"""
from collections import namedtuple
from collections.abc import Mapping

import numpy as np

from gradspace.autograd import increment_version

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

# Which array kinds may be copied into a tensor of each kind (float <- float, int <- int, ...).
_ACCEPTS = {"f": "f", "i": "iu", "u": "iu", "b": "b"}
_KIND_NAMES = {"f": "a floating", "i": "an integer", "u": "an integer", "b": "a bool"}


def state_items(module, prefix=""):
    """(key, Tensor) for every parameter and persistent buffer, in PyTorch's order."""
    for path, m in module.named_modules(prefix=prefix, remove_duplicate=False):
        dot = f"{path}." if path else ""
        for name, param in m._parameters.items():
            if param is not None:
                yield dot + name, param
        for name, buffer in m._buffers.items():
            if buffer is not None and name not in m._non_persistent_buffers:
                yield dot + name, buffer


def _as_array(value):
    data = getattr(value, "data", value) if not isinstance(value, np.ndarray) else value
    array = np.asarray(data)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"holds {type(value).__name__} of dtype {array.dtype}, not numbers")
    return array


def _problems(expected, state_dict):
    """Arrays ready to copy, and one message per entry that cannot be copied."""
    ready, problems = {}, []
    for key, target in expected.items():
        if key not in state_dict:
            continue
        try:
            value = _as_array(state_dict[key])
        except (TypeError, ValueError) as exc:
            problems.append(f"entry {key}: {exc}")
            continue
        if value.shape != target.shape:
            problems.append(f"size mismatch for {key}: copying a param with shape "
                            f"{tuple(value.shape)} from checkpoint, the shape in current model "
                            f"is {tuple(target.shape)}.")
        elif value.dtype.kind not in _ACCEPTS[target.dtype.kind]:
            needed = _KIND_NAMES[target.dtype.kind]
            problems.append(f"dtype mismatch for {key}: the checkpoint holds {value.dtype} "
                            f"(shape {tuple(value.shape)}), but the model's tensor is "
                            f"{target.dtype}, which needs {needed} array.")
        else:
            ready[key] = value
    return ready, problems


def load_into(module, state_dict, strict=True):
    """Module.load_state_dict: check everything, then copy in place (see the module doc)."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"load_state_dict: expected a dict of arrays, got "
                        f"{type(state_dict).__name__}")
    expected = dict(state_items(module))
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    ready, problems = _problems(expected, state_dict)
    if strict:
        if unexpected:
            problems.insert(0, "Unexpected key(s) in state_dict: "
                            + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if missing:
            problems.insert(0, "Missing key(s) in state_dict: "
                            + ", ".join(f'"{k}" (shape {tuple(expected[k].shape)})'
                                        for k in missing) + ".")
    if problems:
        raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}:\n\t"
                           + "\n\t".join(problems) + "\nNothing was loaded.")
    for key, value in ready.items():
        # In place, so the Parameter objects (held by optimizers) stay the same; a float64
        # checkpoint is cast into a float32 model as PyTorch's copy_ does.
        np.copyto(expected[key].data, value, casting="unsafe")
        increment_version(expected[key])          # as copy_ does: a saved graph is stale
    return IncompatibleKeys(missing, unexpected)
