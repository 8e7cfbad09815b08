"""Losses as modules: each holds its settings and calls the nn.functional loss.

`reduction` is "mean" (the default), "sum" or "none" (one loss per element or target).
Class weights are buffers, as in PyTorch, so they travel in state_dict.
"""
from gradspace.nn import functional as F
from gradspace.nn.module import Module


class MSELoss(Module):
    """mean((input - target)^2)."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = F._check_reduction(reduction, "MSELoss")

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class CrossEntropyLoss(Module):
    """Softmax cross-entropy of logits (N, C, ...) against class ids (N, ...); see
    nn.functional.cross_entropy."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = F._check_reduction(reduction, "CrossEntropyLoss")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCEWithLogitsLoss(Module):
    """Binary cross-entropy of logits against targets in [0, 1], stable for any logit; see
    nn.functional.binary_cross_entropy_with_logits."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = F._check_reduction(reduction, "BCEWithLogitsLoss")

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
