"""Run gradspace's benchmarks: every workload as a gradspace step and a hand-written numpy step.

    python bench/run.py                  # all workloads, 1 thread and then default threads
    python bench/run.py --quick          # fewer repeats: a smoke run in a few seconds
    python bench/run.py --only W3        # one workload (module name or W1..W7, matmul512)
    python bench/run.py --threads 1      # one mode only: 1 | default
    python bench/run.py --no-torch       # leave out the PyTorch column

Without --threads it runs itself twice in subprocesses: first with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set to 1 (they must be set before numpy loads,
hence the subprocess), then with those variables removed, so BLAS picks its default.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer warm-ups and repeats")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="run only this workload (repeatable)")
    p.add_argument("--threads", choices=["1", "default"],
                   help="run one thread mode in this process (default: both, in subprocesses)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.threads is None:
        status = 0
        for mode in ("1", "default"):
            env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
            if mode == "1":
                env.update({v: "1" for v in THREAD_VARS})
            print(f"===== threads: {mode} =====", flush=True)
            cmd = [sys.executable, str(Path(__file__).resolve()), *argv, "--threads", mode]
            status = max(status, subprocess.call(cmd, env=env))
            print(flush=True)
        return status
    if args.threads == "1":
        for v in THREAD_VARS:      # numpy is not loaded yet, so BLAS will see these
            os.environ[v] = "1"
    sys.path.insert(0, str(ROOT))
    from bench import harness
    from bench.workloads import load, load_all
    modules = [load(n) for n in args.only] if args.only else load_all()
    return harness.run(modules, args.threads, quick=args.quick, use_torch=not args.no_torch)


if __name__ == "__main__":
    sys.exit(main())
