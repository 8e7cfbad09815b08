"""gradspace's nn: modules with parameters, layers, losses, the parameter vector, and
reparameterization, with PyTorch's names, keys and initializations.

    from gradspace import nn
    import gradspace.nn.functional as F
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss = F.cross_entropy(model(x), y)      # x: (N, 4) floats, y: (N,) class ids
    loss.backward()                          # fills p.grad for p in model.parameters()

Layers own parameters and compose the engine's tensor operations; they hold no backward code.
The one exception is nn/fused.py: cross-entropy, log-sigmoid and linear as fused primitives.
"""
from gradspace.nn import functional, init, parametrize, utils
from gradspace.nn.activations import LogSigmoid, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from gradspace.nn.containers import ModuleDict, ModuleList, Sequential
from gradspace.nn.layers import Dropout, Embedding, Flatten, Identity, LayerNorm, Linear
from gradspace.nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from gradspace.nn.module import Module
from gradspace.nn.parameter import Parameter

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
