"""gradspace's nn: modules with parameters, layers, losses, the parameter vector, and
reparameterization, with PyTorch's names, keys and initializations.

    import nn
    import nn.functional as F
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss = F.cross_entropy(model(x), y)      # x: (N, 4) floats, y: (N,) class ids
    loss.backward()                          # fills p.grad for p in model.parameters()

Layers own parameters and compose the engine's tensor operations; they hold no backward code.
The one exception is nn/fused.py: cross-entropy and log-sigmoid as fused primitives.
"""
from nn import functional, init, parametrize, utils
from nn.activations import LogSigmoid, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from nn.containers import ModuleDict, ModuleList, Sequential
from nn.layers import Dropout, Embedding, Flatten, Identity, LayerNorm, Linear
from nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from nn.module import Module
from nn.parameter import Parameter

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "LayerNorm",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "parametrize",
    "utils",
]
