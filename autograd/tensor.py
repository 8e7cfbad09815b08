"""Tensor: an ndarray that remembers the operation that made it.

A Tensor holds `data` (an np.ndarray), and, when it requires grad and was made by an operation
in grad mode, `grad_fn`: the graph node of that operation. `backward()` hands the graph to the
engine, which fills `.grad` of the leaves. The operations themselves live in `autograd/ops`, one
family a file, each with the Tensor methods that call it; this file holds what is left: making
tensors, their attributes, and backward.
"""
import numpy as np

from gradspace.autograd import engine, version
from gradspace.autograd.dtypes import check_dtype, defaults, to_array
from gradspace.autograd.ops.arguments import shape_arg
from gradspace.autograd.ops.arithmetic import ArithmeticMethods
from gradspace.autograd.ops.elementwise import ElementwiseMethods
from gradspace.autograd.ops.indexing import IndexingMethods
from gradspace.autograd.ops.inplace import InplaceMethods
from gradspace.autograd.ops.linalg import LinalgMethods
from gradspace.autograd.ops.reductions import ReductionMethods
from gradspace.autograd.ops.shape import ShapeMethods

ndarray = np.ndarray
_constants = {}              # (number, type, dtype) -> shared constant (_shared_constant)
creation_order = version.clock   # inputs are made before outputs: a topological numbering


class Tensor(ArithmeticMethods, ElementwiseMethods, ReductionMethods, ShapeMethods, LinalgMethods,
             IndexingMethods, InplaceMethods):
    """An n-dimensional array with reverse-mode automatic differentiation.

    Tensor(data, requires_grad=False, dtype=None, name=None): data is a Python number, nested
    lists, an np.ndarray or a Tensor, always copied (as torch.tensor; `from_numpy` shares an
    array). Python floats become the default float dtype (float32; see `set_default_dtype`),
    Python ints int64; numpy arrays keep their dtype. Only floating tensors can require grad.
    A 0-d tensor is a scalar: `Tensor(2.0) * Tensor(-3.0)` builds a graph as micrograd does.

    `data` is the plain np.ndarray of the values (shared, not copied). Writing into it changes
    the tensor behind autograd's back: the version counter does not see it, as with PyTorch's
    `.data`, so a graph that saved the old values would backpropagate through the new ones.
    The in-place methods (`add_`, `mul_`, `t[i] = v`, `-=`, ...) are counted.
    """
    __slots__ = ("data", "_grad", "_requires_grad", "grad_fn", "name", "_hooks", "_seq",
                 "__weakref__")
    __array_ufunc__ = None      # `ndarray * Tensor` defers to Tensor.__rmul__
    is_sparse = False           # RowSparseGrad says True (optimizers read it)
    __hash__ = object.__hash__  # == is elementwise, so hash by identity

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if isinstance(data, Tensor):
            data = data.data
        array = to_array(data, dtype)
        # Copy unless to_array already made a new array (a list, a cast): never the caller's.
        self.data = array.copy() if array is data or array.base is not None else array
        self._start(None, name)
        if requires_grad:
            self.requires_grad_(True)

    def _start(self, grad_fn, name=None):
        """Every slot but `data` (and a row-sparse gradient's own): the one place they are set."""
        self._grad = None
        self.grad_fn = grad_fn
        self._requires_grad = grad_fn is not None
        self.name = name
        self._hooks = None
        self._seq = next(creation_order)

    # -- making results (used by Function.apply, so the ops need no import of Tensor) --------

    def _result(self, data, grad_fn):
        out = Tensor.__new__(Tensor)
        out.data = data if type(data) is ndarray else np.asarray(data)
        out._start(grad_fn)
        return out

    def _constant(self, data):
        """A Tensor outside the graph (comparisons, masks, argmax)."""
        return self._result(data, None)

    def _lift(self, value):
        """Turn a Python number or array into a constant Tensor that combines well with self.

        A number takes self's dtype when self is floating, so float32 stays float32; a float
        combined with an integer tensor takes the default float dtype.
        """
        if isinstance(value, Tensor):
            return value
        if isinstance(value, np.generic) and value.dtype.kind in "fiub":
            value = value.item()                 # numpy scalars combine like Python numbers
        if isinstance(value, (float, int)):      # bool is an int
            if self.data.dtype.kind == "f":
                return _shared_constant(value, self.data.dtype)
            if isinstance(value, float):
                return _shared_constant(value, defaults.float_dtype)
        return Tensor(value)

    def _row_sparse(self, ids, rows):
        """A row-sparse gradient for this table (see RowSparseGrad)."""
        return RowSparseGrad(ids, rows, self.data.shape)

    def _storage(self):
        """The array holding the numbers (the engine checks who else holds its memory)."""
        return self.data

    def _copy(self):
        """The same numbers in memory of their own, outside the graph."""
        return self._constant(self.data.copy())

    def _plus(self, other):
        """self + other outside the graph, as plain arrays (the engine's sum of gradients)."""
        return self._constant(self.data + other.data)

    def _plus_(self, other):
        """self += other, in self's memory (the engine's own sums, which no one else holds)."""
        self.data += other.data
        return self

    # -- attributes --------------------------------------------------------------------------

    @property
    def grad(self):
        """The gradient accumulated by backward() (a leaf's), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value.shape != self.data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size "
                                   f"'{list(value.shape)}' to a tensor of size "
                                   f"'{list(self.data.shape)}'. Please ensure that the gradient "
                                   f"and the tensor are the same size")
        self._grad = value

    @property
    def _version(self):
        """How many times this tensor's memory was changed in place (see autograd/version.py)."""
        return version.version(self.data)

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, flag=True):
        """Mark a leaf as needing its gradient. Only floating tensors can."""
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad=True needs a floating dtype, but this tensor is "
                            f"{self.data.dtype}; make it with dtype=np.float32 or float64")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use detach()")
        self._requires_grad = bool(flag)
        return self

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def numel(self):
        return self.data.size

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # -- leaving the graph ---------------------------------------------------------------------

    def detach(self):
        """The same data as a new leaf outside the graph (shares memory)."""
        return self._constant(self.data)

    def numpy(self):
        """The data as an np.ndarray (shared, not copied)."""
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element can be converted to a "
                             f"Python number, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    # -- backward ------------------------------------------------------------------------------

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into the .grad of every leaf that requires grad.

        gradient: d(loss)/d(self), needed unless self has one element (then it is 1).
        retain_graph: keep the saved buffers so that backward can run through this graph again
        (defaults to create_graph). create_graph: record the backward pass, so the gradients
        can be differentiated again.
        """
        if not self._requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn; "
                               "did you forget requires_grad=True, or compute it under no_grad?")
        gradient = self._root_gradient(gradient, "backward")
        engine.backward([self], [gradient], retain_graph=create_graph if retain_graph is None
                        else retain_graph, create_graph=create_graph)

    def _root_gradient(self, gradient, where):
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"{where}: the gradient can be implied only for a tensor with "
                                   f"one element; this one has shape {self.shape}, so pass "
                                   f"gradient= of that shape")
            return self._constant(np.ones_like(self.data))
        gradient = gradient if isinstance(gradient, Tensor) else Tensor(gradient, dtype=self.dtype)
        if gradient.shape != self.shape:
            raise RuntimeError(f"{where}: gradient has shape {gradient.shape} but the tensor has "
                               f"shape {self.shape}")
        return gradient

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is computed; a returned Tensor replaces it
        (it must have the gradient's shape: RuntimeError otherwise, as in PyTorch).

        Returns a handle whose remove() unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not "
                               "require grad")
        if self._hooks is None:
            self._hooks = []
        checked = _same_size(hook)
        self._hooks.append(checked)
        return _HookHandle(self._hooks, checked)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", threshold=50)
        extras = []
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        if self.data.dtype not in (defaults.float_dtype, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn.name}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"


def _shared_constant(value, dtype):
    """A read-only 0-d constant, shared by every op that uses this number in this dtype: making
    one costs more than a scalar op, and each would outlive the op in its graph. 0.0 and -0.0
    are equal keys, so zero is never shared (its sign matters: 1 / -0.0)."""
    key = (value, type(value), dtype)
    constant = _constants.get(key)
    if constant is None:
        constant = from_numpy(np.array(value, dtype))
        if value == 0:
            return constant
        if len(_constants) >= 4096:              # a bound, for code that uses many numbers
            _constants.clear()
        constant.data.flags.writeable = False
        _constants[key] = constant
    return constant


def _same_size(hook):
    """hook, refusing a replacement gradient of another shape, which would be broadcast into
    the update silently."""
    def checked(grad):
        replaced = hook(grad)
        if replaced is not None and getattr(replaced, "shape", None) != grad.shape:
            name = getattr(hook, "__name__", type(hook).__name__)
            raise RuntimeError(f"hook '{name}' has changed the size of value: the gradient has "
                               f"shape {tuple(grad.shape)}, the hook returned "
                               f"{getattr(replaced, 'shape', type(replaced).__name__)}")
        return replaced
    return checked


class _HookHandle:
    __slots__ = ("hooks", "hook")

    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


class RowSparseGrad(Tensor):
    """The gradient of an embedding table: a few rows, the rest zero.

    Holds `indices` (k,) and `values` (k, dim...) for a table of shape `shape`; an index may
    repeat until `coalesce()` sums duplicates. Optimizers read `indices`/`values` to update
    only those rows; everything else sees an ordinary Tensor whose `data` is the dense
    gradient, made on first use. It is a value the engine handles like any gradient: `+`
    (with a row-sparse gradient it stays row-sparse), `sum_to_size`, `to` and `_copy` are its own.
    """
    __slots__ = ("indices", "values", "dense_shape", "_dense")
    is_sparse = True

    def __init__(self, indices, values, shape):
        self.indices, self.values, self.dense_shape = indices, values, tuple(shape)
        self._dense = None
        self._start(None)

    @property
    def data(self):
        if self._dense is None:
            dense = np.zeros(self.dense_shape, dtype=self.values.dtype)
            c = self.coalesce()
            dense[c.indices] = c.values
            self._dense = dense
        return self._dense

    @data.setter
    def data(self, value):
        raise AttributeError("RowSparseGrad is read-only; assign a new .grad instead")

    @property
    def shape(self):
        return self.dense_shape

    @property
    def ndim(self):
        return len(self.dense_shape)

    @property
    def dtype(self):
        return self.values.dtype

    def __reduce__(self):
        # copy.deepcopy and pickle rebuild it from its rows (the dense .data is read-only).
        return (RowSparseGrad, (self.indices, self.values, self.dense_shape))

    def coalesce(self):
        """The same gradient with sorted, unique indices (duplicates summed).

        Sort the ids. When most ids are distinct, the first row of each run of equal ids is
        gathered in one step and only the repeats are added onto it (np.add.at over the few
        repeats). When most are repeats (a small vocabulary), np.add.reduceat sums each run in
        one pass.
        """
        ids = self.indices
        if ids.size < 2 or bool(np.all(ids[1:] > ids[:-1])):
            return self
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        first = np.concatenate(([True], ids[1:] != ids[:-1]))    # starts of runs of one id
        starts = np.flatnonzero(first)
        if 2 * starts.size < ids.size:          # mostly repeats (a small vocabulary): one sum
            totals = np.add.reduceat(self.values[order], starts, axis=0)   # per run of ids
        else:
            totals = self.values[order[starts]]
            repeats = ~first
            if repeats.any():
                run = np.cumsum(first) - 1                       # run number of each sorted row
                np.add.at(totals, run[repeats], self.values[order[repeats]])
        return RowSparseGrad(ids[starts], totals, self.dense_shape)

    def to(self, dtype):
        dtype = check_dtype(dtype)
        return self if dtype == self.dtype else RowSparseGrad(
            self.indices, self.values.astype(dtype), self.dense_shape)

    def sum_to_size(self, *shape):
        if shape_arg(shape) == self.dense_shape:
            return self
        return self._dense_tensor().sum_to_size(*shape)

    def _storage(self):
        return self.values

    def _copy(self):
        return RowSparseGrad(self.indices.copy(), self.values.copy(), self.dense_shape)

    def _plus(self, other):
        return self + other          # stays row-sparse when other is, densifies otherwise

    _plus_ = _plus                   # a new sum: the rows are concatenated, not added in place

    def _dense_tensor(self):
        return self._constant(self.data)

    def __add__(self, other):
        if isinstance(other, RowSparseGrad) and other.dense_shape == self.dense_shape:
            return RowSparseGrad(np.concatenate((self.indices, other.indices)),
                                 np.concatenate((self.values, other.values)), self.dense_shape)
        return self._dense_tensor() + other

    def __radd__(self, other):
        return other + self._dense_tensor()

    def __repr__(self):
        return (f"RowSparseGrad(rows={self.indices.size}, shape={self.dense_shape}, "
                f"dtype={self.dtype})")


def tensor(data, requires_grad=False, dtype=None, name=None):
    """Same as Tensor(...)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def from_numpy(array):
    """A Tensor sharing `array`'s memory, as torch.from_numpy: writing into either changes both.

    The array keeps its dtype (a float, int or bool dtype); a read-only array gives a tensor
    that in-place operations refuse to change.
    """
    if not isinstance(array, ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    out = Tensor.__new__(Tensor)
    out.data = to_array(array)
    out._start(None)
    return out
