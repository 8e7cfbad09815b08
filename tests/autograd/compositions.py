"""Random compositions of every op, written once for gradspace and PyTorch alike.

Each step maps a (2, 3) float64 tensor to a (2, 3) tensor and is written against a small
namespace `lib` (gradspace's or torch's), so that the same composition runs on both. The
steps keep values on tame domains (log of x^2 + 1, exp of tanh x), so that any chain of them
is smooth and finite at the points drawn.
"""
import numpy as np

import gradspace.nn.functional as F
from gradspace import autograd
from gradspace.autograd import Tensor

rng = np.random.default_rng(15)
W = rng.standard_normal((3, 3))         # constants the steps close over
B = rng.standard_normal(3)
C = rng.standard_normal((2, 3))
MASK = np.array([[True, False, True], [False, True, True]])
IDS = np.array([1, 0])
TARGETS = np.array([2, 0])

STEPS = {
    "add": lambda x, lib: x + lib.const(C),
    "sub": lambda x, lib: lib.const(C) - x,
    "mul": lambda x, lib: x * x.sin(),
    "div": lambda x, lib: x / (x * x + 1),
    "pow": lambda x, lib: (x.abs() + 0.5) ** (x * 0.3),
    "pow_number": lambda x, lib: (x * x + 0.5) ** 1.5,
    "rpow": lambda x, lib: 2.0 ** x.tanh(),
    "neg": lambda x, lib: -x,
    "exp": lambda x, lib: x.tanh().exp(),
    "log": lambda x, lib: (x * x + 1).log(),
    "sqrt": lambda x, lib: (x * x + 0.1).sqrt(),
    "tanh": lambda x, lib: (2 * x).tanh(),
    "sigmoid": lambda x, lib: x.sigmoid() * 3,
    "relu": lambda x, lib: x.relu() - x * 0.5,
    "abs": lambda x, lib: x.abs(),
    "sin": lambda x, lib: x.sin(),
    "cos": lambda x, lib: x.cos(),
    "clamp": lambda x, lib: x.clamp(-0.8, 0.9) + x * 0.1,
    "maximum": lambda x, lib: x.maximum(lib.const(C)),
    "minimum": lambda x, lib: x.minimum(lib.const(C)),
    "where": lambda x, lib: lib.where(lib.const(MASK), x, x * x),
    "sum": lambda x, lib: x * x.sum(1, keepdim=True),
    "mean_var": lambda x, lib: (x - x.mean(0, keepdim=True)) * x.var(1, keepdim=True),
    "max": lambda x, lib: x - lib.amax(x, 1),
    "min": lambda x, lib: x * lib.amin(x, 0),
    "logsumexp": lambda x, lib: x - x.logsumexp(1, keepdim=True),
    "softmax": lambda x, lib: x.softmax(-1) * 2,
    "log_softmax": lambda x, lib: x.log_softmax(0),
    "reshape_T": lambda x, lib: x.reshape(3, 2).T.reshape(2, 3),
    "permute": lambda x, lib: x.permute(1, 0).flatten().reshape(2, 3) + x,
    "expand": lambda x, lib: x[:1].expand(2, 3) * x,
    "unsqueeze": lambda x, lib: x.unsqueeze(0).squeeze(0).transpose(0, 1).reshape(2, 3),
    "index": lambda x, lib: x[[1, 0]][:, [2, 0, 1]] + x,
    "cat": lambda x, lib: lib.cat([x[:, :1] * 2, x[:, 1:]], 1),
    "stack": lambda x, lib: lib.stack([x[0], x[1] * x[0]], 0),
    "matmul": lambda x, lib: x @ lib.const(W),
    "linear": lambda x, lib: lib.F.linear(x, x[:, [1, 2, 0]].T @ lib.const(W[:2]), lib.const(B)),
    "embedding": lambda x, lib: lib.F.embedding(lib.const(IDS), x) * x,
    "cross_entropy": lambda x, lib: x + lib.F.cross_entropy(
        x, lib.const(TARGETS), reduction="none").unsqueeze(1),
    "cross_entropy_mean": lambda x, lib: x * lib.F.cross_entropy(x, lib.const(TARGETS)),
    "logsigmoid": lambda x, lib: lib.F.logsigmoid(x),
    "mse": lambda x, lib: x * lib.F.mse_loss(x, lib.const(C)),
    "bce": lambda x, lib: x * lib.F.binary_cross_entropy_with_logits(x, lib.const(C).sigmoid()),
}


def composition(seed, length=4):
    """The names of `length` steps drawn by `seed` (with repeats)."""
    names = sorted(STEPS)
    return [names[i] for i in np.random.default_rng(seed).integers(0, len(names), length)]


def covering(seed=0, length=4):
    """Compositions that together use every step once: a shuffled list of steps, in chunks."""
    names = sorted(STEPS)
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    return [tuple(order[i:i + length]) for i in range(0, len(order), length)]


def point(seed):
    """x and a tangent u, both (2, 3) float64."""
    gen = np.random.default_rng(seed)
    return gen.standard_normal((2, 3)), gen.standard_normal((2, 3))


def run(names, x, lib):
    for name in names:
        x = STEPS[name](x, lib)
    return x


class Gradspace:
    """The namespace the steps see when they run on gradspace."""
    F = F
    const = staticmethod(Tensor)
    cat, stack, where = staticmethod(autograd.cat), staticmethod(autograd.stack), \
        staticmethod(autograd.where)

    @staticmethod
    def amax(x, dim):
        return x.max(dim, keepdim=True)

    @staticmethod
    def amin(x, dim):
        return x.min(dim, keepdim=True)


def torch_namespace(torch):
    """The same namespace on PyTorch."""
    class Torch:
        F = torch.nn.functional
        cat, stack, where = torch.cat, torch.stack, torch.where

        @staticmethod
        def const(a):
            return torch.as_tensor(a)

        @staticmethod
        def amax(x, dim):
            return x.amax(dim, keepdim=True)

        @staticmethod
        def amin(x, dim):
            return x.amin(dim, keepdim=True)
    return Torch
