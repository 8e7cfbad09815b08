"""The layers: Linear, Embedding and LayerNorm (with parameters), Dropout, Flatten, Identity.

Each owns its parameters and composes tensor operations in forward (nn.functional); none has
backward code (F.linear's fused node is in nn/fused.py). Parameters are made in the default
float dtype (or `dtype=`) and initialized as PyTorch does, from the generator
`autograd.manual_seed` sets.
"""
import math

import numpy as np

from gradspace.autograd import get_default_dtype
from gradspace.nn import functional as F
from gradspace.nn import init
from gradspace.nn.module import Module
from gradspace.nn.parameter import Parameter


def _empty(*shape, dtype=None):
    return Parameter(np.empty(shape, dtype=get_default_dtype() if dtype is None else dtype))


class Identity(Module):
    """Returns its input (a placeholder, e.g. for a layer switched off)."""

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, with weight W (out_features, in_features) and bias b (out_features,).

    Initialized as PyTorch: W and b from U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with
    a = sqrt(5)), so a state_dict is interchangeable with torch.nn.Linear's.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features, dtype=dtype)
        if bias:
            self.bias = _empty(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)     # declared, so state_dict knows it is absent
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Embedding(Module):
    """A table of num_embeddings vectors of size embedding_dim; forward(ids) looks rows up.

    weight (num_embeddings, embedding_dim) starts from N(0, 1), the padding_idx row at zero.
    ids of any shape give ids.shape + (embedding_dim,). An id outside [0, num_embeddings) raises
    IndexError naming it.

    The gradient touches only the looked-up rows. With sparse=True (the default here; PyTorch's
    is False) weight.grad is a `RowSparseGrad`: the ids and their gradient rows, so a step over a
    50,000-row table never makes a pass over the whole table; optimizers read its
    `indices`/`values` (after `coalesce()`), and anything else can use it as a dense Tensor,
    which it becomes on first use of `.data`. sparse=False gives a dense gradient.
    The padding_idx row gets no gradient.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, sparse=True,
                 dtype=None, _weight=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within "
                                 f"num_embeddings={num_embeddings}")
            padding_idx = padding_idx % num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.sparse = padding_idx, sparse
        if _weight is None:
            self.weight = _empty(num_embeddings, embedding_dim, dtype=dtype)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: weight of shape {tuple(_weight.shape)} does not "
                                 f"match ({num_embeddings}, {embedding_dim})")
            self.weight = _weight if isinstance(_weight, Parameter) else Parameter(_weight)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, sparse=True):
        """An Embedding holding `embeddings` (num, dim); frozen unless freeze=False.

        A Tensor is shared, as in PyTorch; a numpy array is copied (share one with
        `autograd.from_numpy(array)`)."""
        weight = Parameter(embeddings, requires_grad=not freeze)
        if weight.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-d, got shape "
                             f"{tuple(weight.shape)}")
        return cls(*weight.shape, padding_idx=padding_idx, sparse=sparse, _weight=weight)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.sparse)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text + f", sparse={self.sparse}"


class LayerNorm(Module):
    """Normalize over the trailing normalized_shape dims: (x - mean) / sqrt(var + eps), then
    scale by weight (ones) and shift by bias (zeros) when elementwise_affine."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None):
        super().__init__()
        shape = ((normalized_shape,) if isinstance(normalized_shape, int)
                 else tuple(normalized_shape))
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        for name, wanted in (("weight", elementwise_affine), ("bias", elementwise_affine and bias)):
            self.register_parameter(name, _empty(*shape, dtype=dtype) if wanted else None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p);
    the identity in eval mode. Seeded by autograd.manual_seed."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Flatten(Module):
    """Merge dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
