"""The benchmark workloads, one module each, in the order the table prints them.

Each module exposes:
    NAME, DESCRIPTION           what the table and the README call it
    TARGET                      (column, factor, text): gradspace <= factor x that column
                                ("numpy" = the module's reference column, "torch"), or None
    setup(seed=0, small=False)  -> state: seeded weights and batches, one private copy of the
                                weights per implementation; small=True for the tests
    numpy_step(state)           one hand-written step (for W5: pure-Python micrograd)
    gradspace_step(state)       the same step with gradspace
    torch_setup(state), torch_step(state)   the same with PyTorch, when it is installed
Every step returns the loss as a Python float, so implementations can be compared.
"""
import importlib

MODULES = ["chain1000", "matmul512", "w1_skipgram", "w2_negsampling", "w3_charlm",
           "w3b_charlm", "w4_mlp", "w5_micrograd", "w7_scalar_chain"]


def load(name):
    """The workload called `name`: a module name above, its table label's first word
    ('W3', 'W3b', 'W6', 'matmul512'), or a prefix of one module name ('chain')."""
    key = name.lower()
    modules = load_all()
    for test in (lambda m: m.__name__.rsplit(".", 1)[1] == key,
                 lambda m: m.NAME.split()[0].lower() == key,
                 lambda m: m.__name__.rsplit(".", 1)[1].startswith(key)):
        matches = [m for m in modules if test(m)]
        if len(matches) == 1:
            return matches[0]
    raise SystemExit(f"no single workload matches {name!r}; choose from {', '.join(MODULES)} "
                     f"or W1, W2, W3, W3b, W4, W5, W6, W7")


def load_all():
    return [importlib.import_module(f"bench.workloads.{m}") for m in MODULES]
