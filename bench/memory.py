"""Peak memory of W1 over 1,000 steps, gradspace against the numpy step (issue 7).

    python bench/memory.py [--steps 1000] [--only W1]

Each implementation runs in a fresh subprocess (single-threaded BLAS), which reads its peak
resident set size (resource.getrusage ru_maxrss) after setup and after 1, 10, 100, ... steps.
Setup is the same in both (it builds every implementation's weights), so the difference is
what the steps themselves hold. The target: gradspace's peak stays flat from step 100 on
(no leak: it grows by under 5%) and within 1.2x the numpy step's peak.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = (1, 10, 100, 250, 500, 1000, 2000, 5000)
FLAT, WITHIN = 1.05, 1.2


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024    # KiB on Linux


def child(workload, impl, steps):
    """Run `steps` steps of one implementation; print {checkpoint: peak MB} as JSON."""
    sys.path.insert(0, str(ROOT))
    from bench.workloads import load
    module = load(workload)
    state = module.setup(seed=0)
    step = getattr(module, f"{impl}_step")
    peaks = {"setup": peak_mb()}
    for k in range(1, steps + 1):
        step(state)
        if k in CHECKPOINTS or k == steps:
            peaks[str(k)] = peak_mb()
    print(json.dumps({"name": module.NAME, "peaks": peaks}))


def measure(workload, impl, steps):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, __file__, "--child", impl, "--only", workload,
                          "--steps", str(steps)], env=env, capture_output=True, text=True,
                         check=False)
    if out.returncode:
        raise SystemExit(f"{impl} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--only", default="W1", help="the workload (default W1)")
    p.add_argument("--child", choices=["numpy", "gradspace"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args.only, args.child, args.steps)
    runs = {impl: measure(args.only, impl, args.steps) for impl in ("numpy", "gradspace")}
    name = runs["numpy"]["name"]
    keys = list(runs["numpy"]["peaks"])
    print(f"{name}: peak RSS (ru_maxrss, MB) over {args.steps:,} steps, "
          f"each in a fresh single-threaded subprocess")
    print("| impl | " + " | ".join(k if k == "setup" else f"step {k}" for k in keys)
          + " | peak - setup |")
    print("|---" * (len(keys) + 2) + "|")
    for impl, run in runs.items():
        peaks = run["peaks"]
        print(f"| {impl} | " + " | ".join(f"{peaks[k]:.1f}" for k in keys)
              + f" | {peaks[keys[-1]] - peaks['setup']:.1f} |")
    gs, ref = runs["gradspace"]["peaks"], runs["numpy"]["peaks"]
    last = keys[-1]
    base = "100" if "100" in gs and last != "100" else keys[1]
    growth = gs[last] / gs[base]
    ratio = gs[last] / ref[last]
    own = (gs[last] - gs["setup"]) / max(ref[last] - ref["setup"], 1e-9)
    print(f"flat: {'yes' if growth <= FLAT else 'NO'} (gradspace's peak grew {growth:.3f}x "
          f"from step {base} to step {last})")
    print(f"within {WITHIN}x of numpy: {'yes' if ratio <= WITHIN else 'NO'} "
          f"(peak {ratio:.2f}x numpy's; the steps' own memory, peak - setup, {own:.2f}x)")
    return 0 if growth <= FLAT and ratio <= WITHIN else 1


if __name__ == "__main__":
    sys.exit(main())
