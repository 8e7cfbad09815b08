"""Shape primitives: reshape, permute, expand, cat. They move numbers without changing them, so
each backward moves the gradient back the same way. squeeze, unsqueeze, flatten, view, stack
and transpose are compositions."""
import numpy as np

from gradspace.autograd.function import Function
from gradspace.autograd.ops.arguments import check_dim, normalize_dims, shape_arg


class Reshape(Function):
    __slots__ = ()
    reads = {}

    def forward(self, a, shape=()):
        return a.reshape(shape)

    formulas = ("dL/da = reshape(dL/dout)",)
    def backward(self, grad, out):
        return (grad.reshape(*self.inputs[0].shape),)

    def jvp(self, out, da):
        return da.reshape(out.shape)


class Permute(Function):
    __slots__ = ("dims",)
    reads = {}

    def forward(self, a, dims=()):
        self.dims = dims
        return a.transpose(dims)

    formulas = ("dL/da = permute(dL/dout, inverse dims)",)
    def backward(self, grad, out):
        return (grad.permute(*np.argsort(self.dims)),)   # the inverse permutation

    def jvp(self, out, da):
        return da.permute(self.dims)


class Expand(Function):
    __slots__ = ()
    reads = {}

    def forward(self, a, shape=()):
        return np.broadcast_to(a, shape)

    formulas = ("dL/da = dL/dout",)       # summed back to a's shape by the engine
    def backward(self, grad, out):
        return (grad,)          # the engine sums the broadcast gradient back to a's shape

    def jvp(self, out, da):
        return da.expand(out.shape)


class Cat(Function):
    __slots__ = ("dim",)
    reads = {}

    def forward(self, *arrays, dim=0):
        self.dim = dim
        return np.concatenate(arrays, axis=dim)

    formulas = ("dL/da_k = dL/dout[the k-th block along dim]",)
    def backward(self, grad, out):
        grads, start = [], 0
        for t, need in zip(self.inputs, self.needs_input_grad):
            stop = start + t.shape[self.dim]
            index = (slice(None),) * self.dim + (slice(start, stop),)
            grads.append(grad[index] if need else None)
            start = stop
        return grads

    def jvp(self, out, *tangents):
        # an input without a tangent stands still: zeros in its slot of the result
        return Cat.apply(*[t._constant(np.zeros(t.shape, t.dtype)) if d is None else d
                           for t, d in zip(self.inputs, tangents)], dim=self.dim)


class ShapeMethods:
    """The Tensor methods of this family (mixed into Tensor)."""
    __slots__ = ()

    def reshape(self, *shape):
        shape = shape_arg(shape)
        if shape == self.shape:
            return self
        return Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        (start,), (end,) = (normalize_dims(start_dim, self.ndim, "flatten"),
                            normalize_dims(end_dim, self.ndim, "flatten"))
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        merged = int(np.prod(self.shape[start:end + 1]))
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1:])

    def permute(self, *dims):
        dims = shape_arg(dims)
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of {self.ndim} dims")
        return Permute.apply(self, dims=tuple(d % self.ndim for d in dims))

    def transpose(self, dim0, dim1):
        if self.ndim == 0:
            normalize_dims(dim0, 0, "transpose")     # only 0 and -1 name a 0-d tensor's "dim"
            normalize_dims(dim1, 0, "transpose")
            return self
        dims = list(range(self.ndim))
        (a,), (b,) = (normalize_dims(dim0, self.ndim, "transpose"),
                      normalize_dims(dim1, self.ndim, "transpose"))
        dims[a], dims[b] = dims[b], dims[a]
        return Permute.apply(self, dims=tuple(dims))

    @property
    def T(self):
        """The transpose of a 2-d tensor (a 0-d or 1-d tensor is returned unchanged)."""
        if self.ndim > 2:
            raise ValueError(f"T: expects at most 2 dims, got shape {self.shape}; use permute")
        return self if self.ndim < 2 else Permute.apply(self, dims=(1, 0))

    @property
    def mT(self):
        """The transpose of the last two dims (a batch of matrices)."""
        n = self.ndim
        if n < 2:
            raise ValueError(f"mT: expects at least 2 dims, got shape {self.shape}")
        return Permute.apply(self, dims=(*range(n - 2), n - 1, n - 2))

    def unsqueeze(self, dim):
        dim = check_dim(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        """Remove dims of size 1 (all of them, or those in dim: an int or a tuple)."""
        dims = normalize_dims(dim, self.ndim, "squeeze")
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1))
        return self.reshape(shape)

    def expand(self, *shape):
        """Broadcast to shape without copying; -1 keeps an existing dim's size."""
        shape = shape_arg(shape)
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}")
        for i, n in enumerate(shape[:lead]):
            if n == -1:
                raise RuntimeError(f"expand: the expanded size of the tensor (-1) isn't allowed "
                                   f"in a leading, non-existing dimension {i} (shape "
                                   f"{self.shape} to {shape})")
        shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        if shape == self.shape:
            return self
        return Expand.apply(self, shape=shape)
