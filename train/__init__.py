"""gradspace's training package: optimizers, data, the loop, checkpoints, and recipes.

    from gradspace import train
    history = train.fit(model, loss_fn, train.optim.Adam(model.parameters()), loader, epochs=5)
    train.checkpoint.save("run.npz", model, optimizer, epoch=5)

- `train.optim`: SGD, Adam, AdamW, RMSprop, SparseAdam, NaturalGradient, and `lr_scheduler`.
- `train.data`: datasets, the DataLoader, token tools and the shipped corpus.
- `train.fit` / `train.History` (loop.py): the training loop with a progress bar.
- `train.callbacks.RecordParameters`: records theta's path through parameter space.
- `train.checkpoint`: save/load model + optimizer + metadata as `.npz`, atomically.
- `train.embeddings`: similarity, neighbours, analogies and a 2-D map of an embedding table.
- `train.recipes`: `skipgram` and `charlm`, also run as `gradspace skipgram|charlm`.

Importing `train` is light: matplotlib and tqdm load only when a plot or a bar is drawn.
"""
from gradspace.train import callbacks, checkpoint, data, optim
from gradspace.train.callbacks import RecordParameters
from gradspace.train.loop import History, StopTraining, fit

__all__ = ["History", "RecordParameters", "StopTraining", "callbacks", "checkpoint", "data",
           "fit", "optim"]
