"""`python -m train`: see train/cli.py.

The recipes multiply small matrices (a few hundred rows), where BLAS threads only add
synchronisation, and on a busy machine spinning threads can make a run several times slower.
So unless the user chose (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS or MKL_NUM_THREADS is set),
the command re-runs itself once with those set to 1: they must be set before numpy loads,
and `import train` has loaded it already.
"""
import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _reexec_single_threaded():
    if os.name != "posix" or any(v in os.environ for v in THREAD_VARS):
        return
    os.environ.update({v: "1" for v in THREAD_VARS})
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "train", *sys.argv[1:]])


if __name__ == "__main__":
    _reexec_single_threaded()
    from train.cli import main
    sys.exit(main())
