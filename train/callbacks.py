"""Ready callbacks for `train.fit(..., callbacks=[...])`.

A callback is any callable `cb(event, info)`: fit calls it with event "step" after every
optimizer step and "epoch" after every epoch (see `train.fit`).
"""
import numpy as np

from gradspace.nn.utils import parameters_to_vector


class RecordParameters:
    """Record theta, the flattened parameter vector, as training moves it.

    The guide's gradient descent is a path theta_0, theta_1, ... in R^N; this keeps that path.

        recorder = RecordParameters(model, every=10)
        train.fit(model, loss_fn, optimizer, loader, callbacks=[recorder])
        recorder.path            # (K, N): one row per recorded point of parameter space

    With a model (or `params`), the first point is theta when the recorder is made: build it
    just before training. Without one (for a recipe that builds its own model), it takes
    `info["model"]` at the first step, and the first point is theta after that step. Then a
    point after every `every`-th optimizer step.
    """

    def __init__(self, model=None, every=1, params=None):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"RecordParameters: every must be a positive int, got {every!r}")
        self.every = every
        self.steps = 0
        self.params, self.points = None, []
        if params is not None or model is not None:
            self._bind(model.parameters() if params is None else params)
            self.points.append(self._theta())

    def _bind(self, params):
        self.params = list(params)
        if not self.params:
            raise ValueError("RecordParameters: no parameters to record")

    def _theta(self):
        return parameters_to_vector(self.params).numpy().copy()

    def __call__(self, event, info):
        if event != "step":
            return
        self.steps += 1
        if self.params is None:                  # bound late: start the path here
            self._bind(info["model"].parameters())
            self.points.append(self._theta())
        elif self.steps % self.every == 0:
            self.points.append(self._theta())

    @property
    def path(self):
        """The recorded points of parameter space, shape (K, N)."""
        if not self.points:
            raise ValueError("RecordParameters: nothing recorded yet (no training step ran)")
        return np.stack(self.points)
