"""W3b: the char-MLP LM of W3 at batch 1,024, where the matmuls start to count."""
from bench.workloads import w3_charlm
from bench.workloads.w3_charlm import gradspace_step, numpy_step, torch_setup, torch_step, weights

NAME = "W3b charlm-b1024"
DESCRIPTION = "the W3 model at batch 1,024"
TARGET = ("numpy", 1.1, "<= 1.1 x numpy")
__all__ = ["gradspace_step", "numpy_step", "setup", "torch_setup", "torch_step", "weights"]


def setup(seed=0, small=False):
    return w3_charlm.setup(seed, small, batch=1024)
