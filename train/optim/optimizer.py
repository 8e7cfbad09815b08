"""The Optimizer base class: parameter groups, per-parameter state, and saving both.

An optimizer holds `param_groups`, a list of dicts, each with its own `params` (a list of
Tensors) and hyperparameters (`lr`, ...); a hyperparameter missing from a group takes the
optimizer's default. `state[p]` is a dict of buffers for parameter p (momentum, moments...),
created on p's first update. `step()` updates every parameter that has a `.grad`;
`zero_grad()` sets every `.grad` to None, as PyTorch does by default.

The rules the subclasses follow:
- An update writes into `p.data` in place (other references to the array see the new values),
  under `no_grad`, and never writes into a `.grad` (the user may still want to read it).
  `step()` then bumps p's version counter, as PyTorch's in-place updates do: a backward
  through a graph recorded before the step, that needs p's old values, raises RuntimeError.
- A gradient may be an `autograd.RowSparseGrad` (from `nn.Embedding`): reading its `.data`
  gives the dense gradient, so every rule gives exactly its dense result; SGD without momentum
  or weight decay updates only the rows that have a gradient.
- Bad hyperparameters raise ValueError naming the value, before anything is changed.

`state_dict()` follows PyTorch's layout: parameters are referred to by their position, counted
across groups in order, so a state dict can be loaded into an optimizer built afresh over the
same model:

    {"state": {0: {"step": 3, "exp_avg": ndarray, ...}, ...},
     "param_groups": [{"lr": 0.001, ..., "params": [0, 1, 2]}, ...]}
"""
import math

import numpy as np

from gradspace.autograd import Tensor, enable_grad, from_numpy, increment_version, no_grad


class Optimizer:
    """Base class: subclasses define `_check(group)` and `_update(p, grad, state, group)`."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of dicts, "
                            f"got a single Tensor; wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    def add_param_group(self, param_group):
        """Add a dict with "params" and optional hyperparameters (the others take defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: a parameter group must be a dict, "
                            f"got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        params = [params] if isinstance(params, Tensor) else list(params or ())
        if not params:
            raise ValueError(f"{self._name}: got an empty parameter list")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: can only optimize Tensors, got "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{self._name}: can't optimize a non-leaf Tensor (one made by "
                                 f"an operation); optimize the leaves it was computed from")
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            raise ValueError(f"{self._name}: a parameter appears twice in one group")
        if any(id(p) in ids for g in self.param_groups for p in g["params"]):
            raise ValueError(f"{self._name}: some parameters appear in more than one "
                             f"parameter group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check(group)
        group["params"] = params
        self.param_groups.append(group)

    def _check(self, group):
        """Raise ValueError naming any bad hyperparameter of `group` (subclasses extend)."""
        check_lr(self._name, group["lr"])

    # -- the update ---------------------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient: `.grad = None`, or with set_to_none=False a new
        zero Tensor (never zeroed in place: the old gradient may be shared or still read)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None if set_to_none else from_numpy(np.zeros(p.shape, p.dtype))

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns closure() when one is given
        (PyTorch's convention: the closure re-evaluates the loss and calls backward)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    grad = p.grad
                    if grad is not None:
                        self._update(p, grad, self.state.setdefault(p, {}), group)
                        # The update wrote p.data in place: a graph recorded before it that
                        # reads p must now refuse to run backward (see autograd/version.py).
                        increment_version(p)
        return loss

    def _update(self, p, grad, state, group):
        raise NotImplementedError(f"{self._name} must define _update")

    # -- saving and loading -------------------------------------------------------------------

    def _indexed_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """{"state": {index: {name: array copy or number}}, "param_groups": [...]} (see top)."""
        index = {id(p): i for i, p in enumerate(self._indexed_params())}
        groups, start = [], 0
        for group in self.param_groups:
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(saved)
        state = {index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load hyperparameters and state saved by `state_dict()` (arrays are copied).

        Everything is checked first (see `validate_state_dict`), so a state dict that does not
        fit raises ValueError and changes nothing.
        """
        groups, state = self._validated(state_dict)
        self.param_groups = groups
        self.state = state

    def validate_state_dict(self, state_dict):
        """Raise ValueError if `load_state_dict(state_dict)` would; change nothing either way.

        Checks the number and sizes of the groups, the hyperparameters (as the constructor
        does) and the buffers' shapes: what `train.checkpoint.load` needs to refuse a file
        before it loads the model. (PyTorch has no such method: its load fails halfway.)
        """
        self._validated(state_dict)

    def _validated(self, state_dict):
        """The (param_groups, state) that `state_dict` describes, or ValueError."""
        name = self._name
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             f"'param_groups', got {type(state_dict).__name__}")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} "
                             f"parameter groups, this optimizer {len(self.param_groups)}")
        groups, params = [], []
        for k, (saved, mine) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved.get("params", ())) != len(mine["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {k} has "
                                 f"{len(saved.get('params', ()))} parameters in the state "
                                 f"dict, {len(mine['params'])} here")
            group = dict(mine)
            for key, value in saved.items():
                if key == "params":
                    continue
                if isinstance(self.defaults.get(key), tuple):
                    value = tuple(value)              # JSON and friends turn tuples to lists
                group[key] = value
            self._check(group)
            groups.append(group)
            params.extend(zip(saved["params"], mine["params"]))
        by_index = dict(params)
        state = {}
        for i, buffers in dict(state_dict["state"]).items():
            p = by_index.get(int(i))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, which no "
                                 f"group holds")
            state[p] = {}
            for key, value in buffers.items():
                if isinstance(value, np.ndarray) and value.ndim > 0:
                    if value.shape != p.shape:
                        raise ValueError(f"{name}.load_state_dict: state {key!r} of parameter "
                                         f"{i} has shape {value.shape}, the parameter "
                                         f"{p.shape}")
                    value = value.astype(p.dtype, copy=True)
                elif isinstance(value, np.ndarray):
                    value = value.item()
                if key == "step" and not (_real(value) and value >= 0
                                          and float(value) == int(value)):
                    raise ValueError(f"{name}.load_state_dict: state 'step' of parameter {i} "
                                     f"is {value!r}; it must be a whole number >= 0")
                state[p][key] = value
        return groups, state

    def __repr__(self):
        lines = [f"{self._name} ("]
        for k, group in enumerate(self.param_groups):
            lines.append(f"  group {k}: {len(group['params'])} parameters")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items())
                      if key != "params"]
        return "\n".join(lines + [")"])


# -- shared checks and helpers ----------------------------------------------------------------

def _real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_lr(name, lr):
    if not _real(lr) or not lr >= 0.0 or math.isinf(lr):
        raise ValueError(f"{name}: invalid learning rate lr={lr!r}; it must be a finite "
                         f"number >= 0")


def check_nonnegative(name, key, value):
    if not _real(value) or not value >= 0.0:
        raise ValueError(f"{name}: invalid {key}={value!r}; it must be a number >= 0")


def check_fraction(name, key, value):
    """value in [0, 1): a decay rate such as a beta."""
    if not _real(value) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name}: invalid {key}={value!r}; it must be in [0, 1)")


def dense(grad, p):
    """The gradient as a dense ndarray of p's dtype (read-only use: never written into)."""
    g = grad.data                  # a RowSparseGrad makes its dense array here
    return g if g.dtype == p.dtype else g.astype(p.dtype)


def is_sparse(grad):
    return getattr(grad, "is_sparse", False)
