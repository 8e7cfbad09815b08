"""W5: micrograd's demo, a 2-16-16-1 MLP on 50 points, built from scalars.

Every weight is a 0-d Tensor and every neuron a Python sum of products, exactly as in
micrograd's demo notebook: one step is the forward pass over all 50 points, the max-margin
loss with L2 regularization, backward, and p -= lr * p.grad for each of the 337 weights.

    score(x) = MLP(x), tanh neurons, linear output
    loss = mean_i relu(1 - y_i score(x_i)) + 1e-4 sum_p p^2

The reference here is not numpy but micrograd itself: `Value` below is a faithful, compact
micrograd (closures for backward, a recursive topological sort), the "micrograd" column.
Each of its nodes sits in a reference cycle through its closure, so Python's cycle collector
runs often and is much of its time; gradspace's graph has no cycles. float64 everywhere, as
Python floats are.
"""
import math
from itertools import pairwise
from types import SimpleNamespace

import numpy as np

NAME = "W5 micrograd-mlp"
DESCRIPTION = "micrograd's 2-16-16-1 MLP on 50 points, 0-d scalars (reference: micrograd)"
REFERENCE = "micrograd"
TARGET = ("numpy", 0.5, "<= 0.5 x micrograd")      # "numpy" = this module's reference column
LR = 0.05
ALPHA = 1e-4
SIZES = (2, 16, 16, 1)


class Value:
    """micrograd's scalar: data, grad, and a closure that pushes grad to its children."""

    def __init__(self, data, _children=()):
        self.data, self.grad = data, 0.0
        self._backward = lambda: None
        self._prev = set(_children)

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,))

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,))

        def _backward():
            self.grad += (1 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)
        build_topo(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1


def setup(seed=0, small=False):
    n_points, sizes = (8, (2, 6, 6, 1)) if small else (50, SIZES)
    rng = np.random.default_rng(seed)
    # two interleaved half-moons with noise, labels -1 / +1 (micrograd's make_moons data)
    angle = rng.uniform(0, np.pi, n_points)
    label = rng.integers(0, 2, n_points)
    X = np.stack([np.cos(angle) + label, np.sin(angle) * (1 - 2 * label) + 0.5 * label], 1)
    X = X + 0.1 * rng.standard_normal(X.shape)
    weights = []                                    # per layer: (n_out, n_in + 1), bias last
    for n_in, n_out in pairwise(sizes):
        layer = rng.uniform(-1, 1, (n_out, n_in + 1))
        layer[:, -1] = 0.0                          # micrograd starts biases at 0
        weights.append(layer)
    s = SimpleNamespace(X=X.tolist(), y=(2.0 * label - 1).tolist(), init=weights)
    s.mg = [[[Value(w) for w in row] for row in layer.tolist()] for layer in weights]

    from gradspace import autograd
    # np.float64(w), not Tensor(w, dtype=np.float64): the latter rounds through float32 first
    s.gs = [[[autograd.Tensor(np.float64(w), requires_grad=True) for w in row]
             for row in layer] for layer in weights]
    s.gs_tensor = autograd.Tensor
    return s


def _step(layers, X, y, wrap, finish):
    """One micrograd-demo step over `layers` (lists of neuron weight rows, bias last)."""
    scores = []
    for point in X:
        h = [wrap(v) for v in point]
        for depth, layer in enumerate(layers):
            last = depth == len(layers) - 1
            h = [sum((w * x for w, x in zip(row, h)), row[-1]) for row in layer]
            h = h if last else [v.tanh() for v in h]
        scores.append(h[0])
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    params = [w for layer in layers for row in layer for w in row]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in params)
    return finish(data_loss + reg_loss, params)


def _micrograd_finish(loss, params):
    for p in params:
        p.grad = 0.0
    loss.backward()
    for p in params:
        p.data -= LR * p.grad
    return loss.data


def micrograd_step(s):
    return _step(s.mg, s.X, s.y, Value, _micrograd_finish)


numpy_step = micrograd_step          # the harness's reference column


def _gradspace_finish(loss, params):
    loss.backward()
    for p in params:
        p.data -= LR * p.grad.data
        p.grad = None
    return loss.item()


def gradspace_step(s):
    wrap, f64 = s.gs_tensor, np.float64
    return _step(s.gs, s.X, s.y, lambda v: wrap(f64(v)), _gradspace_finish)


def torch_setup(s):
    import torch
    s.th = [[[torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in row]
             for row in layer] for layer in s.init]


def _torch_finish(loss, params):
    import torch
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= LR * p.grad
            p.grad = None
    return loss.item()


def torch_step(s):
    import torch
    return _step(s.th, s.X, s.y, lambda v: torch.tensor(v, dtype=torch.float64), _torch_finish)


def weights(s):
    """Each implementation's current weights, in the same order (for the tests)."""
    flat = lambda layers: [w for layer in layers for row in layer for w in row]
    out = {"numpy": [np.array([v.data for v in flat(s.mg)])],
           "gradspace": [np.array([float(t.data) for t in flat(s.gs)])]}
    if hasattr(s, "th"):
        out["torch"] = [np.array([t.item() for t in flat(s.th)])]
    return out
