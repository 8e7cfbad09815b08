"""How long importing gradspace's three packages takes, and what it drags in (issue 7).

    python bench/import_time.py [--runs 9]

Times the whole command (interpreter start included) as the median of several fresh
subprocesses, next to a bare `python -c pass`; the target is under 0.2 s. Then lists which
heavy modules got imported (matplotlib, graphviz, tqdm... must load only when used) and the
slowest imports by `python -X importtime`, cumulative.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATEMENT = "from gradspace import autograd, nn, train"
HEAVY = ("matplotlib", "graphviz", "graphviz_pure", "tqdm", "torch", "scipy", "pandas",
         "IPython", "PIL", "hypothesis", "pytest")
TARGET = 0.2


def wall(code, runs):
    """Median seconds of `python -c code` over fresh subprocesses."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def imported_modules():
    code = f"{STATEMENT}; import sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def slowest_imports(n=15, depth=2):
    """(cumulative ms, module) of the slowest imports nested at most `depth` deep, from
    `python -X importtime`, whose lines read `import time: self_us | cumulative_us | name`
    with the name indented two spaces per level of nesting."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", STATEMENT], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        level = (len(name) - len(name.lstrip()) - 1) // 2
        if level <= depth:
            rows.append((int(cumulative) / 1000, "  " * level + name.strip()))
    return sorted(rows, reverse=True)[:n]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=9)
    args = p.parse_args(argv)
    wall("pass", 1)                                   # warm the disk cache
    bare, full = wall("pass", args.runs), wall(STATEMENT, args.runs)
    print(f'python -c "{STATEMENT}": {full:.3f} s median of {args.runs} '
          f"(bare python -c pass: {bare:.3f} s, so the imports take {full - bare:.3f} s); "
          f"target < {TARGET} s: {'met' if full < TARGET else 'NOT met'}")
    modules = imported_modules()
    heavy = [h for h in HEAVY if h in modules]
    print(f"{len(modules)} modules in sys.modules; heavy ones imported: "
          f"{', '.join(heavy) if heavy else 'none'}")
    print("slowest imports, nested up to 2 deep (cumulative, python -X importtime):")
    for ms, name in slowest_imports():
        print(f"  {ms:7.1f} ms  {name}")
    return 0 if full < TARGET and not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
