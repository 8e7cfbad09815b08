"""Where a workload's gradspace step spends its time: cProfile over a few steps.

    python bench/profile_step.py W6 [--steps 20] [--top 15] [--sort tottime] [--impl gradspace]

Warms up with 2 steps, then times `--steps` steps without the profiler, saying how much of
that went to Python's garbage collector (cProfile cannot see it: a collection is charged to
whichever call happened to allocate), then profiles `--steps` more (gc on, single-threaded
BLAS) and prints the top functions by `--sort` (tottime: time in the function itself;
cumulative: with callees). cProfile adds a fixed cost to every Python call, so small-op
workloads look slower under it than they are: read the shares, not the totals.
"""
import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")          # before numpy loads

ROOT = Path(__file__).resolve().parents[1]


class GcTimer:
    """A gc callback adding up the time spent in collections, and counting them by generation."""

    def __init__(self):
        self.seconds, self.counts, self.started = 0.0, [0, 0, 0], None

    def __call__(self, phase, info):
        if phase == "start":
            self.started = time.perf_counter()
        elif self.started is not None:
            self.seconds += time.perf_counter() - self.started
            self.counts[info["generation"]] += 1

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


def gc_share(step, state, steps):
    """A line: ms/step without the profiler and how much of it the cycle collector took."""
    gc.collect()
    with GcTimer() as timer:
        start = time.perf_counter()
        for _ in range(steps):
            step(state)
        total = time.perf_counter() - start
    return (f"{1e3 * total / steps:.2f} ms/step unprofiled, of which gc "
            f"{1e3 * timer.seconds / steps:.2f} ms ({100 * timer.seconds / total:.0f}%; "
            f"collections per step by generation: "
            f"{', '.join(f'{c / steps:.1f}' for c in timer.counts)})")


def profile(name, steps=20, top=15, sort="tottime", impl="gradspace"):
    """The pstats report of `steps` steps of one implementation of workload `name`."""
    sys.path.insert(0, str(ROOT))
    from bench.workloads import load
    module = load(name)
    state = module.setup(seed=0)
    if impl == "torch":
        module.torch_setup(state)
    step = getattr(module, f"{impl}_step")
    for _ in range(2):
        step(state)
    unprofiled = gc_share(step, state, steps)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step(state)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    print(f"{module.NAME}, {impl}: {steps} steps profiled, "
          f"{1e3 * stats.total_tt / steps:.2f} ms/step under cProfile; top {top} by {sort} "
          f"(times below are totals over the {steps} steps)", file=out)
    print(unprofiled, file=out)
    stats.sort_stats(sort).print_stats(top)
    return out.getvalue().replace(str(ROOT) + os.sep, "")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("name", help="workload: W1..W7, W3b, matmul512 or a module name")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--sort", default="tottime", choices=["tottime", "cumulative", "ncalls"])
    p.add_argument("--impl", default="gradspace", choices=["gradspace", "numpy", "torch"])
    args = p.parse_args(argv)
    print(profile(args.name, args.steps, args.top, args.sort, args.impl))


if __name__ == "__main__":
    main()
