"""gradspace: a readable reverse-mode autograd engine on numpy, with layers, training and
drawings of backpropagation.

    import gradspace.autograd as ag          # Tensor, backward, grad, jvp, gradcheck, viz
    from gradspace import nn                 # Module, Linear, Embedding, losses
    from gradspace import train              # optimizers, data, fit, checkpoints, recipes

The three packages live in the repository as `autograd/`, `nn/` and `train/`; they are only
ever installed under this one name, so they cannot collide with other packages called
`autograd` or with a user's own `train.py`. `gradspace --help` (or `python -m gradspace`) is the
command line.
"""
import importlib

__version__ = "0.2.0"
__all__ = ["__version__", "autograd", "nn", "train"]


def __getattr__(name):
    # `import gradspace; gradspace.nn` works without loading all three packages up front.
    if name in ("autograd", "nn", "train"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'gradspace' has no attribute {name!r}")
