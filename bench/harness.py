"""Timing the workloads and printing the table: the body of `python bench/run.py`.

A step is timed alone with time.perf_counter, after warm-up steps, with Python's garbage
collector left on as in normal use (much of micrograd's time is the cycle collector, so
turning it off would hide exactly what W5 measures). numpy and gradspace take turns in
rounds, a block of consecutive steps each, so that a background load on a shared machine
falls on both alike; the heap is collected before each block, so no one pays for another's
garbage. The median over all timed steps is reported. The warm-up steps' losses are compared
across implementations: each starts from the same weights and sees the same batches, so
step k must agree.

PyTorch is timed in a subprocess of its own: importing torch adds a great many objects that
every full collection then scans, which slows the steps that make many small objects
(micrograd's, gradspace's W7) in a process that has merely imported it. Both processes use the
same thread settings.
"""
import datetime
import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

# budget: seconds of timed steps per implementation, split over `rounds` blocks
FULL = {"warmup": 3, "rounds": 3, "budget": 2.0, "min_reps": 6, "max_reps": 1000}
QUICK = {"warmup": 2, "rounds": 1, "budget": 0.25, "min_reps": 3, "max_reps": 100}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
RTOL, ATOL = 1e-4, 1e-6          # float32 losses computed in a different order
ROOT = Path(__file__).resolve().parents[1]


def settle_allocator():
    """Let glibc's malloc keep large freed arrays instead of handing them back to the OS.

    glibc serves an allocation above its mmap threshold (128 kB at start) with fresh pages, and
    gives freed memory back once the heap's free top exceeds twice that threshold. Both
    thresholds rise, for the rest of the process, the first time a large mmap-served block is
    freed. Until then a step allocating arrays of ~1 MB (W3b) page-faults on every one of them,
    which slowed it by an amount that depended on which workload happened to run first. One
    24 MB block allocated and freed here puts every implementation, in every process, in the
    state of a process that has already seen a large array.
    """
    block = np.empty(24 << 20, np.uint8)
    del block


def time_block(step, state, budget, min_reps, max_reps):
    """Per-step seconds of one block of consecutive steps."""
    gc.collect()
    times = []
    start = time.perf_counter()
    while len(times) < max_reps and (len(times) < min_reps
                                     or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        step(state)
        times.append(time.perf_counter() - t0)
    return times


def time_impls(impls, state, warmup, rounds, budget, min_reps, max_reps):
    """Warm up each implementation, then time them in turns; returns
    ({impl: median ms}, {impl: fastest ms}, {impl: timed steps}, {impl: warm-up losses},
    [(impl, traceback)])."""
    losses, times, errors = {}, {}, []
    for impl, step in impls:
        try:
            losses[impl] = [step(state) for _ in range(warmup)]
            times[impl] = []
        except Exception:
            errors.append((impl, traceback.format_exc()))
    steps = [(impl, step) for impl, step in impls if impl in times]
    per_block = {"budget": budget / rounds, "min_reps": -(-min_reps // rounds),
                 "max_reps": -(-max_reps // rounds)}
    for _ in range(rounds):
        for impl, step in steps:
            if impl in times:
                try:
                    times[impl] += time_block(step, state, **per_block)
                except Exception:
                    errors.append((impl, traceback.format_exc()))
                    del times[impl]
    ms = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    fastest = {k: min(v) * 1e3 for k, v in times.items()}
    return ms, fastest, {k: len(v) for k, v in times.items()}, losses, errors


def run_workload(module, settings, impls=("numpy", "gradspace")):
    """Time the implementations `impls` of one workload; returns a row for the table."""
    row = {"name": module.NAME, "ms": {}, "min": {}, "reps": {}, "losses": {}, "errors": []}
    try:
        state = module.setup(seed=0)
        if "torch" in impls:
            module.torch_setup(state)
    except Exception:
        row["errors"].append(("setup", traceback.format_exc()))
        return row
    steps = [(impl, getattr(module, f"{impl}_step")) for impl in impls]
    row["ms"], row["min"], row["reps"], row["losses"], errors = time_impls(steps, state,
                                                                           **settings)
    row["errors"] += errors
    if "gradspace" in impls and hasattr(module, "deep_check"):
        try:
            row["note"] = module.deep_check()
        except Exception:
            row["errors"].append(("deep_check", traceback.format_exc()))
    del state
    gc.collect()
    return row


def torch_worker(names, threads, quick):
    """(In the subprocess) time the torch step of each workload; print the rows as JSON."""
    import torch
    if threads == "1":
        torch.set_num_threads(1)
    settle_allocator()
    from bench.workloads import load
    settings = QUICK if quick else FULL
    rows = {}
    for name in names:
        module = load(name)
        if hasattr(module, "torch_step"):
            rows[name] = run_workload(module, settings, impls=("torch",))
            print(f"  {module.NAME}: {_progress(rows[name])}", file=sys.stderr, flush=True)
    print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(),
                      "rows": rows}))


def torch_rows(modules, threads, quick):
    """The torch rows by workload from a subprocess, or None when torch is not installed."""
    if importlib.util.find_spec("torch") is None:
        return None
    names = [m.__name__.rsplit(".", 1)[1] for m in modules]
    cmd = [sys.executable, "-m", "bench.harness", "--torch-worker", threads,
           *(["--quick"] if quick else []), *names]
    print("torch, in its own process:", flush=True)
    out = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode:
        return {"version": "?", "threads": "?", "rows": {}, "failed": out.returncode}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _agree(losses):
    """'ok' when every implementation's warm-up losses match the reference's."""
    ref = losses.get("numpy")
    others = [v for k, v in losses.items() if k != "numpy"]
    if ref is None or not others:
        return "-"
    bad = [k for k, v in losses.items() if k != "numpy"
           and not np.allclose(v, ref, rtol=RTOL, atol=ATOL)]
    return "ok" if not bad else "DIFFER: " + ", ".join(bad)


def _target(module, ms):
    """(the issue-7 target's text, 'yes' / 'NO' / 'n/a')."""
    if module.TARGET is None:
        return "-", "-"
    column, factor, text = module.TARGET
    if "gradspace" not in ms or column not in ms:
        return text, "n/a"
    ratio = ms["gradspace"] / ms[column]
    return text, ("yes" if ratio <= factor else "NO") + f" ({ratio:.2f}x)"


def _fmt_ms(ms):
    return "-" if ms is None else f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def _fmt_ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def table(rows, with_torch):
    head = ["workload", "numpy ms", "gradspace ms", "gs/numpy"]
    head += ["torch ms", "gs/torch"] if with_torch else []
    head += ["target (issue 7)", "met", "losses agree"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        ms = r["ms"]
        np_ms, gs_ms, th_ms = ms.get("numpy"), ms.get("gradspace"), ms.get("torch")
        cells = [r["name"], _fmt_ms(np_ms), _fmt_ms(gs_ms), _fmt_ratio(gs_ms, np_ms)]
        if with_torch:
            cells += [_fmt_ms(th_ms), _fmt_ratio(gs_ms, th_ms)]
        cells += [r.get("target", "-"), r.get("met", "-"), r.get("agree", "-")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _load():
    """The 1-minute load average: above ~0.5 on an idle box, other work shares the cores."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def machine(threads):
    """Lines saying when, where and with what the numbers were taken."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = "?"
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{info.get('name', '?')} {info.get('version', '')}".strip()
    except (KeyError, TypeError):      # numpy < 1.25 has no mode="dicts"
        pass
    pools = ""
    try:
        from threadpoolctl import threadpool_info
        pools = ", ".join(f"{p['internal_api']} {p['num_threads']} threads"
                          for p in threadpool_info())
    except ImportError:
        pools = "threadpoolctl not installed"
    env = " ".join(f"{v}={os.environ[v]}" for v in THREAD_VARS if v in os.environ) or "unset"
    lines = [f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
             (f"machine: {cpu}, nproc {os.cpu_count()}, Python {platform.python_version()}, "
              f"numpy {np.__version__}, BLAS {blas} ({pools})"),
             f"threads: {threads} (env {env}); load average before: {_load()}"]
    return lines


def _progress(row):
    return ", ".join(f"{k} {_fmt_ms(v)} ms (min {_fmt_ms(row['min'][k])}, x{row['reps'][k]})"
                     for k, v in row["ms"].items())


def run(modules, threads, quick=False, use_torch=True):
    """Run `modules`, print the table; returns 0, or 1 when something failed or disagreed."""
    settings = QUICK if quick else FULL
    settle_allocator()
    print("\n".join(machine(threads)))
    print(f"gc enabled; {settings['warmup']} warm-up steps, then the median of about "
          f"{settings['budget']} s of steps (at least {settings['min_reps']}) per implementation, "
          f"in {settings['rounds']} round(s); malloc settled by one 24 MB block "
          f"(harness.settle_allocator)", flush=True)
    torch = torch_rows(modules, threads, quick) if use_torch else None
    if torch is not None:
        print(f"torch {torch['version']}, torch.get_num_threads() = {torch['threads']}")
    else:
        print("torch: not installed or --no-torch (no torch column)")
    print("numpy and gradspace:", flush=True)
    rows = []
    for module in modules:
        row = run_workload(module, settings)
        print(f"  {module.NAME}: {_progress(row)}", flush=True)
        theirs = (torch or {}).get("rows", {}).get(module.__name__.rsplit(".", 1)[1])
        if theirs:
            for key in ("ms", "min", "reps", "losses"):
                row[key].update(theirs[key])
            row["errors"] += [("torch " + where, tb) for where, tb in theirs["errors"]]
        row["agree"] = _agree(row["losses"])
        row["target"], row["met"] = _target(module, row["ms"])
        rows.append(row)
    print(f"load average after: {_load()}")
    print()
    print(table(rows, torch is not None))
    footnotes = [r["note"] for r in rows if "note" in r]
    if any(getattr(m, "REFERENCE", "numpy") != "numpy" for m in modules):
        footnotes.append("W5's numpy column is the pure-Python micrograd reference "
                         "(bench/workloads/w5_micrograd.py).")
    for note in footnotes:
        print(note)
    failed = bool(torch and torch.get("failed"))
    for r in rows:
        for where, tb in r["errors"]:
            failed = True
            print(f"\n{r['name']} {where} failed:\n{tb}")
        if r.get("agree", "").startswith("DIFFER"):
            failed = True
            print(f"\n{r['name']}: losses differ: {r['losses']}")
    return 1 if failed else 0


# python -m bench.harness --torch-worker THREADS [--quick] NAMES
if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] != "--torch-worker":
        sys.exit("bench/harness.py is run by bench/run.py")
    quick = "--quick" in args
    torch_worker([a for a in args[2:] if a != "--quick"], args[1], quick)
