"""pytest settings for the notebooks, which nbmake runs as tests (see pyproject.toml).

Each notebook runs in a kernel that nbmake starts as a child of this process, so it inherits
this environment. BLAS is pinned to one thread there: the notebooks multiply small matrices, for
which OpenBLAS's worker threads add only synchronisation, and on a busy 2-core machine they made
a (512, 32) @ (32, 177) product 30 times slower and the embeddings notebook (now 07) take 43 s
instead of 8 s.
"""
import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
