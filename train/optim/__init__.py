"""Optimizers and learning-rate schedules, named and behaving as in `torch.optim`.

- `Optimizer` (optimizer.py): parameter groups, per-parameter state, state_dict/load_state_dict.
- `SGD` (sgd.py), `Adam` and `AdamW` (adam.py), `RMSprop` (rmsprop.py): each update is PyTorch's
  formula, written in the class docstring.
- `SparseAdam` (sparse_adam.py): Adam that moves, and decays the moments of, only the rows
  present in a row-sparse gradient (an embedding table's), as `torch.optim.SparseAdam`.
- `NaturalGradient` and `per_example_gradients` (natural_gradient.py): steps preconditioned by
  the damped empirical Fisher or, with fisher="true", the model's own (fisher.py), solved through
  a Gram matrix.
- `lr_scheduler`: `StepLR`, `CosineAnnealingLR`, `LinearLR`.
"""
from gradspace.train.optim import lr_scheduler
from gradspace.train.optim.adam import Adam, AdamW
from gradspace.train.optim.natural_gradient import (
           NaturalGradient,
           natural_direction,
           per_example_gradients,
)
from gradspace.train.optim.optimizer import Optimizer
from gradspace.train.optim.rmsprop import RMSprop
from gradspace.train.optim.sgd import SGD
from gradspace.train.optim.sparse_adam import SparseAdam

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "SparseAdam", "NaturalGradient",
           "natural_direction", "per_example_gradients", "lr_scheduler"]
