"""nn.functional: the layers and losses as plain functions of Tensors.

    import gradspace.nn.functional as F


Each is a composition of the engine's tensor operations, except cross-entropy over class ids,
log-sigmoid and linear with a bias, which are fused primitives (see nn/fused.py, and the
reasons there). Inputs are checked here, before anything runs, so an error names the function
and the shapes or values at fault.
"""
import warnings

import numpy as np

from gradspace.autograd import Tensor, as_tensor, default_generator
from gradspace.nn.fused import CrossEntropy, Linear, LogSigmoid

REDUCTIONS = ("mean", "sum", "none")


def _tensor(x, like=None):
    """x as a Tensor; numbers and arrays take `like`'s floating dtype (float32 stays float32)."""
    if isinstance(x, Tensor):
        return x
    return as_tensor(x, dtype=like.dtype if like is not None and like.dtype.kind == "f" else None)


def _ids(x):
    """Integer ids as an ndarray (from a Tensor, array or list)."""
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def _check_reduction(reduction, op):
    """reduction, if it is one of REDUCTIONS; else ValueError naming `op` (the losses and their
    modules call it first, before any work)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def _reduce(loss, reduction):
    """The per-element losses reduced as `reduction` (already checked) says."""
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


# -- layers ---------------------------------------------------------------------------------------

def linear(input, weight, bias=None):
    """y = x W^T + b for x (..., in), W (out, in), b (out,) -> (..., out)."""
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input of shape {tuple(input.shape)} does not fit weight of "
                         f"shape {tuple(weight.shape)}: the input's last dim must be "
                         f"in_features={weight.shape[-1]}")
    if bias is None:
        return input @ weight.T
    return Linear.apply(_tensor(input, weight), weight, _tensor(bias, weight))   # one node


def embedding(input, weight, padding_idx=None, sparse=True):
    """Rows of `weight` (num_embeddings, dim) for integer ids of any shape -> ids.shape + (dim,).

    Every id is checked first: one outside [0, num_embeddings) raises IndexError naming it.
    The gradient of `weight` touches only the looked-up rows: a `RowSparseGrad` when sparse
    (the default here, unlike torch), a dense array when sparse=False or when the backward is
    recorded. Rows looked up with id `padding_idx` get no gradient.
    """
    ids = _ids(input)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: ids must be integers, got dtype {ids.dtype}")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise IndexError(f"embedding: padding_idx {padding_idx} is out of range for a table "
                             f"of num_embeddings={num}")
        padding_idx = int(padding_idx) % num
    if ids.size:
        low, high = ids.min(), ids.max()
        if low < 0 or high >= num:
            bad = np.argwhere((ids < 0) | (ids >= num))[0]
            where = f" at position {tuple(int(i) for i in bad)}" if ids.ndim else ""
            raise IndexError(f"embedding: id {int(ids[tuple(bad)])}{where} is out of range "
                             f"for a table of num_embeddings={num} (ids must be in [0, {num}))")
    return weight.embedding(ids, padding_idx=padding_idx, sparse=sparse)


def relu(input):
    return input.relu()


def tanh(input):
    return input.tanh()


def sigmoid(input):
    return input.sigmoid()


def softmax(input, dim=-1, dtype=None):
    """exp(x_i) / sum_j exp(x_j) along dim (default the last; PyTorch wants it explicit)."""
    input = input if dtype is None else input.to(dtype)
    return input.softmax(dim)


def log_softmax(input, dim=-1, dtype=None):
    """x_i - logsumexp(x) along dim (default the last)."""
    input = input if dtype is None else input.to(dtype)
    return input.log_softmax(dim)


def logsigmoid(input):
    """log(1 / (1 + exp(-x))), finite for every x (a fused primitive: see nn/fused.py)."""
    return LogSigmoid.apply(input)


def dropout(input, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p), so the mean is kept;
    the identity when not training. The mask comes from the generator `autograd.manual_seed`
    sets, so a seeded run drops the same elements."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    dtype = input.dtype if input.dtype.kind == "f" else np.float64
    keep = default_generator().random(input.shape, dtype=dtype) >= p
    return input * as_tensor(keep.astype(dtype) * dtype.type(1 / (1 - p)))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing `normalized_shape` dims
    (biased variance, as PyTorch)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or input.ndim < len(shape):
        raise ValueError(f"layer_norm: input of shape {tuple(input.shape)} does not end with "
                         f"normalized_shape {shape}")
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    centered = input - input.mean(dims, keepdim=True)
    variance = (centered * centered).mean(dims, keepdim=True)
    out = centered / (variance + eps).sqrt()
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


# -- losses ---------------------------------------------------------------------------------------

def mse_loss(input, target, reduction="mean"):
    """mean((input - target)^2) (or the sum, or elementwise with reduction="none").

    As in PyTorch, a target of another but broadcastable shape is broadcast, with a warning
    (it is usually a bug: (N, 1) against (N,) gives an (N, N) loss).
    """
    _check_reduction(reduction, "mse_loss")
    target = _tensor(target, input)
    if target.shape != input.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(f"mse_loss: input of shape {tuple(input.shape)} and target of "
                             f"shape {tuple(target.shape)} do not broadcast") from None
        warnings.warn(f"mse_loss: target shape {tuple(target.shape)} differs from input shape "
                      f"{tuple(input.shape)}; they are broadcast, which is likely not intended",
                      stacklevel=2)
    diff = input - target
    return _reduce(diff * diff, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], computed as
    (1 - y) x - log sigmoid(x) so that logits of +-1e4 stay finite.

    With pos_weight p (broadcast over the last dim, one per class), the positive term is
    weighted: (1 - y) x - (1 + (p - 1) y) log sigmoid(x). weight multiplies each element.
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    target = _tensor(target, input)
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target of shape "
                         f"{tuple(target.shape)} must have the input's shape "
                         f"{tuple(input.shape)}")
    log_p = logsigmoid(input)
    if pos_weight is None:
        loss = (1 - target) * input - log_p
    else:
        loss = (1 - target) * input - (1 + (_tensor(pos_weight, input) - 1) * target) * log_p
    if weight is not None:
        loss = loss * _tensor(weight, input)
    return _reduce(loss, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy: -log softmax(logits)[target], averaged over the targets.

    input: logits (N, C), (N, C, d1, ...) or (C,). target: class ids (N,), (N, d1, ...) or ()
    (an integer array or Tensor), or class probabilities of the input's shape (floating).
    weight: one weight per class (C,). Targets equal to ignore_index contribute nothing, and
    "mean" divides by the (weighted) number of the others, as PyTorch. label_smoothing eps
    scores against (1 - eps) onehot + eps / C. The gradient with respect to the logits is
    softmax - onehot (per counted target, before the mean).

    Computed from a log-sum-exp by a fused primitive (nn/fused.py), so logits of +-1e4 give
    finite losses and gradients, and float32 stays float32.
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    input = _tensor(input)
    if input.dtype.kind != "f" or input.ndim == 0:
        raise TypeError(f"cross_entropy: input must be floating logits of shape (N, C, ...) or "
                        f"(C,), got dtype {input.dtype} and shape {tuple(input.shape)}")
    ids = _ids(target)
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    w = None
    if weight is not None:
        w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, input.dtype)
        if w.shape != (classes,):
            raise ValueError(f"cross_entropy: weight must have shape ({classes},), one per "
                             f"class, got {tuple(w.shape)}")
    if ids.dtype.kind == "f" and ids.shape == input.shape:
        return _soft_cross_entropy(input, _tensor(target, input), w, class_dim, reduction,
                                   label_smoothing)
    expected = input.shape[:class_dim] + input.shape[class_dim + 1:]
    if ids.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class ids (shape "
                        f"{expected}), got dtype {ids.dtype} and shape {tuple(ids.shape)}; "
                        f"class probabilities need a floating target of the input's shape "
                        f"{tuple(input.shape)}")
    if ids.shape != expected:
        raise ValueError(f"cross_entropy: input of shape {tuple(input.shape)} needs a target "
                         f"of shape {expected} (the input's shape without its class dim), got "
                         f"target of shape {tuple(ids.shape)}")
    bad = None
    if ids.size and (ids.min() < 0 or ids.max() >= classes):       # two passes when all fit
        bad = ((ids < 0) | (ids >= classes)) & (ids != ignore_index)
    if bad is not None and bad.any():
        raise IndexError(f"cross_entropy: target {int(ids[bad].flat[0])} is out of range for "
                         f"{classes} classes (ids must be in [0, {classes}) or equal "
                         f"ignore_index={ignore_index})")
    logits = input
    if input.ndim == 1:
        logits = input.reshape(1, classes)
    elif input.ndim > 2:                       # (N, C, d...) -> (N, d..., C) -> (N*d..., C)
        logits = input.permute(0, *range(2, input.ndim), 1).reshape(-1, classes)
    loss = CrossEntropy.apply(logits, ids=ids.reshape(-1), weight=w, ignore_index=ignore_index,
                              label_smoothing=float(label_smoothing), reduction=reduction)
    return loss.reshape(expected) if reduction == "none" else loss


def _soft_cross_entropy(input, probs, weight, class_dim, reduction, label_smoothing):
    """-sum_c w_c q_c log softmax(x)_c for target distributions q (composed from log_softmax,
    itself a log-sum-exp; "mean" divides by the number of rows, as PyTorch)."""
    classes = input.shape[class_dim]
    if label_smoothing:
        probs = probs * (1 - label_smoothing) + label_smoothing / classes
    terms = input.log_softmax(class_dim) * probs
    if weight is not None:
        shape = [1] * input.ndim
        shape[class_dim] = classes
        terms = terms * as_tensor(weight.reshape(shape))
    return _reduce(-terms.sum(class_dim), reduction)
