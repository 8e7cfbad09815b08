"""One training step of the train package's two recipes, gradspace against hand-written numpy.

    python bench/bench_train.py                 # the table (BLAS threads as the env sets them)
    python bench/bench_train.py --threads 1     # BLAS single-threaded (set before numpy loads)
    python bench/bench_train.py --quick         # a smoke run

    from bench.bench_train import run           # -> list of dicts, one per workload
    rows = run(quick=True)

The workloads, each a full step (forward, backward, SGD update) from the same seeded weights on
the same seeded batches:
- skipgram: V 5,000, d 64, batch 512, full softmax. e = E[center] (B, d); logits = e W^T
  (B, V); cross-entropy; W -= lr dW, and only the looked-up rows of E move.
- charmlp B: vocabulary 27, context 3, embedding 10, hidden 200, batch B in (32, 1024).
  x = C[context] flattened (B, 30); h = tanh(x W1^T + b1) (B, 200); logits = h W2^T + b2
  (B, 27); cross-entropy; SGD on C (looked-up rows), W1, b1, W2, b2.
The gradspace step is what `train.fit` runs: nn modules, nn.functional.cross_entropy,
`optimizer.zero_grad(); loss.backward(); optimizer.step()` with train.optim.SGD. The numpy step
is the same arithmetic written out in float32. Before timing, 5 steps of each must give the
same losses (`check`). Steps are timed in alternating blocks so background load hits both
alike; the table reports the median ms per step and gradspace / numpy.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
LR = 0.1
CHECK_STEPS = 5


# -- numpy, by hand ---------------------------------------------------------------------------

def cross_entropy_np(logits, targets):
    """Mean cross-entropy and d(loss)/d(logits) = (softmax - onehot) / B, in place in
    `logits` (a careful numpy programmer reuses the (B, V) buffer)."""
    import numpy as np
    B, rows = len(targets), np.arange(len(targets))
    z = logits
    z -= z.max(axis=1, keepdims=True)              # exp cannot overflow
    picked = z[rows, targets]
    np.exp(z, out=z)
    total = z.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(total[:, 0]) - picked))
    z /= total                                     # softmax
    z[rows, targets] -= 1
    z *= np.float32(1 / B)
    return loss, z


def rows_sgd(table, ids, rows, lr):
    """table[ids] -= lr * rows, summing the rows of a repeated id first (sorted reduceat)."""
    import numpy as np
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    table[ids[starts]] -= lr * np.add.reduceat(rows[order], starts, axis=0)


def skipgram_numpy(w, batch):
    E, W = w["center.weight"], w["context.weight"]
    center, context = batch
    e = E[center]                                   # (B, d)
    loss, dlogits = cross_entropy_np(e @ W.T, context)
    de = dlogits @ W                                # (B, d)
    W -= LR * (dlogits.T @ e)                       # (V, d)
    rows_sgd(E, center, de, LR)
    return loss


def charmlp_numpy(w, batch):
    C, W1, b1, W2, b2 = (w[k] for k in ("0.weight", "2.weight", "2.bias", "4.weight", "4.bias"))
    ctx, target = batch
    B, T = ctx.shape
    x = C[ctx].reshape(B, -1)                       # (B, T e)
    h = np.tanh(x @ W1.T + b1)                      # (B, hidden)
    loss, dlogits = cross_entropy_np(h @ W2.T + b2, target)
    dh = (dlogits @ W2) * (1 - h * h)               # (B, hidden), through tanh
    dx = dh @ W1                                    # (B, T e)
    W2 -= LR * (dlogits.T @ h)
    b2 -= LR * dlogits.sum(axis=0)
    W1 -= LR * (dh.T @ x)
    b1 -= LR * dh.sum(axis=0)
    rows_sgd(C, ctx.reshape(-1), dx.reshape(B * T, -1), LR)
    return loss


# -- gradspace, as train.fit runs it -----------------------------------------------------------

def gradspace_step(model, optimizer):
    import nn.functional as F

    def step(batch):
        x, y = batch
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


# -- the workloads -----------------------------------------------------------------------------

def setup_skipgram(seed=0, V=5000, d=64, B=512, batches=8):
    rng = np.random.default_rng(seed)
    init = {"center.weight": rng.standard_normal((V, d)).astype(np.float32),
            "context.weight": rng.uniform(-d ** -0.5, d ** -0.5, (V, d)).astype(np.float32)}
    data = [(rng.integers(0, V, B), rng.integers(0, V, B)) for _ in range(batches)]
    from train.recipes.skipgram import SkipGram
    model = SkipGram(V, d, "softmax")             # the recipe's model: center -> logits (B, V)
    return init, data, model, skipgram_numpy


def setup_charmlp(B, seed=0, V=27, T=3, e=10, hidden=200, batches=8):
    import nn
    rng = np.random.default_rng(seed)
    init = {"0.weight": rng.standard_normal((V, e)).astype(np.float32),
            "2.weight": rng.uniform(-0.18, 0.18, (hidden, T * e)).astype(np.float32),
            "2.bias": rng.uniform(-0.18, 0.18, hidden).astype(np.float32),
            "4.weight": rng.uniform(-0.07, 0.07, (V, hidden)).astype(np.float32),
            "4.bias": rng.uniform(-0.07, 0.07, V).astype(np.float32)}
    data = [(rng.integers(0, V, (B, T)), rng.integers(0, V, B)) for _ in range(batches)]
    model = nn.Sequential(nn.Embedding(V, e), nn.Flatten(), nn.Linear(T * e, hidden),
                          nn.Tanh(), nn.Linear(hidden, V))
    return init, data, model, charmlp_numpy


WORKLOADS = {
    "skipgram V5000 d64 B512 softmax": setup_skipgram,
    "charmlp V27 T3 e10 h200 B32": lambda seed=0: setup_charmlp(32, seed),
    "charmlp V27 T3 e10 h200 B1024": lambda seed=0: setup_charmlp(1024, seed),
}


def implementations(setup, seed=0):
    """Fresh (numpy step, gradspace step), each over its own copy of the same weights and a
    cycle over the same batches."""
    from autograd import Tensor
    from train.optim import SGD
    init, data, model, numpy_step = setup(seed=seed)
    weights = {k: v.copy() for k, v in init.items()}
    model.load_state_dict({k: v.copy() for k, v in init.items()})
    gs = gradspace_step(model, SGD(model.parameters(), lr=LR))
    tensors = [(Tensor(x), Tensor(y)) for x, y in data]
    counters = {"numpy": 0, "gradspace": 0}

    def np_step():
        counters["numpy"] += 1
        return numpy_step(weights, data[(counters["numpy"] - 1) % len(data)])

    def gs_step():
        counters["gradspace"] += 1
        return gs(tensors[(counters["gradspace"] - 1) % len(tensors)])
    return np_step, gs_step


def check(setup, steps=CHECK_STEPS, rtol=1e-4):
    """Both implementations' losses over `steps` steps; raises AssertionError if they differ."""
    np_step, gs_step = implementations(setup)
    a = [np_step() for _ in range(steps)]
    b = [gs_step() for _ in range(steps)]
    np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-6)
    assert len(set(a)) > 1, "the losses must change from step to step"
    return a, b


def median_ms(steps, rounds, budget):
    """{name: median ms} timing the steps in turns, `rounds` blocks of ~budget s each."""
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            while True:
                t0 = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - t0)
                if time.perf_counter() - start > budget and len(times[name]) >= 3:
                    break
    return {name: statistics.median(t) * 1e3 for name, t in times.items()}


def run(quick=False, workloads=None):
    """Check, then time every workload; returns one dict per workload: name, numpy_ms,
    gradspace_ms, ratio (gradspace / numpy), losses_agree, steps_checked."""
    rows = []
    for name in workloads or WORKLOADS:
        setup = WORKLOADS[name]
        try:
            check(setup)
            agree = True
        except AssertionError:
            agree = False
        np_step, gs_step = implementations(setup)
        for _ in range(2):                                   # warm-up
            np_step(), gs_step()
        ms = median_ms({"numpy": np_step, "gradspace": gs_step}, rounds=1 if quick else 3,
                       budget=0.2 if quick else 1.0)
        rows.append({"name": name, "numpy_ms": ms["numpy"], "gradspace_ms": ms["gradspace"],
                     "ratio": ms["gradspace"] / ms["numpy"], "losses_agree": agree,
                     "steps_checked": CHECK_STEPS})
    return rows


def table(rows):
    head = ("| workload | numpy ms/step | gradspace ms/step | gradspace / numpy | "
            f"{CHECK_STEPS}-step losses agree |")
    lines = [head, "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['numpy_ms']:.3g} | {r['gradspace_ms']:.3g} | "
                     f"{r['ratio']:.2f} | {'yes' if r['losses_agree'] else 'NO'} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing")
    parser.add_argument("--threads", choices=["1", "default"], default="default",
                        help="1: single-threaded BLAS (set before numpy loads)")
    args = parser.parse_args(argv)
    if args.threads == "1":
        os.environ.update({v: "1" for v in THREAD_VARS})
    _import_numpy()
    rows = run(quick=args.quick)
    threads = " ".join(f"{v}={os.environ[v]}" for v in THREAD_VARS if v in os.environ)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"numpy {np.__version__}, {os.cpu_count()} cores, threads: {threads or 'default'}, "
          f"load average {load:.2f}")
    print(table(rows))
    return 0 if all(r["losses_agree"] for r in rows) else 1


def _import_numpy():
    global np
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import numpy
    np = numpy


np = None
if __name__ != "__main__":        # imported (bench/run.py, tests): numpy can load right away
    _import_numpy()

if __name__ == "__main__":
    sys.exit(main())
