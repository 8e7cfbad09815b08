"""Embedding step: forward + backward + SGD update on a 50,000 x 128 float32 table.

Each step looks up 7,168 ids (a batch of 1,024 centre words with 7 ids each), takes
loss = sum(rows * R) for a fixed random (7,168, 128) matrix R, backpropagates, and moves the
looked-up rows by plain SGD. Three implementations from the same table and the same ids:

- gradspace, sparse:  nn.Embedding(sparse=True); weight.grad is a RowSparseGrad, coalesced
                      (sorted ids + np.add.reduceat) and applied to its rows only.
- gradspace, dense:   nn.Embedding(sparse=False); the gradient is a dense (50,000, 128) array
                      and the update is a pass over the whole table (for comparison).
- numpy by hand:      np.take, then the same sort + np.add.reduceat, then the row update.

Run: `python bench/bench_embedding.py [--repeats N]`. Prints the median ms/step of each and the
ratio to numpy; first checks that all three give the same table after 3 steps.
`run(repeats)` returns the results as dicts (main prints them).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gradspace import autograd, nn

V, D, K, LR = 50_000, 128, 7_168, 0.1


def setup(seed=0, batches=8):
    """The initial table, a fixed matrix R, and a few batches of ids (cycled through)."""
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((V, D)).astype(np.float32)
    weights = rng.standard_normal((K, D)).astype(np.float32)
    ids = [rng.integers(0, V, K) for _ in range(batches)]
    return table, weights, ids


def numpy_step(table, weights, ids):
    rows = np.take(table, ids, axis=0)                   # forward: (K, D)
    loss = float((rows * weights).sum())
    grad_rows = weights                                  # d loss / d rows
    order = np.argsort(ids, kind="stable")               # backward: sum rows of repeated ids
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])))
    grad = np.add.reduceat(grad_rows[order], starts, axis=0)
    table[sorted_ids[starts]] -= LR * grad               # update only those rows
    return loss


def gradspace_model(table, sparse):
    embed = nn.Embedding(V, D, sparse=sparse)
    embed.weight.data[...] = table
    return embed


def gradspace_step(embed, weights, ids):
    """weights is a constant Tensor; plain SGD written inline (optimizers live in train)."""
    loss = (embed(ids) * weights).sum()
    loss.backward()
    weight = embed.weight
    grad = weight.grad
    if getattr(grad, "is_sparse", False):
        grad = grad.coalesce()
        weight.data[grad.indices] -= LR * grad.values
    else:
        weight.data -= LR * grad.data
    weight.grad = None
    return loss.item()


def check(steps=3, seed=0):
    """All three implementations give the same table (and losses) after `steps` steps."""
    table, weights, ids = setup(seed, batches=steps)
    expected = table.copy()
    losses = [numpy_step(expected, weights, b) for b in ids]
    w = autograd.Tensor(weights)
    for sparse in (True, False):
        embed = gradspace_model(table, sparse)
        got = [gradspace_step(embed, w, b) for b in ids]
        if not np.allclose(got, losses, rtol=1e-5):
            raise AssertionError(f"sparse={sparse}: losses {got} != numpy's {losses}")
        if not np.allclose(embed.weight.data, expected, rtol=1e-5, atol=1e-5):
            worst = np.abs(embed.weight.data - expected).max()
            raise AssertionError(f"sparse={sparse}: table differs from numpy's by {worst}")
    return True


def _median_ms(step, batches, repeats, warmup=3):
    for i in range(warmup):
        step(batches[i % len(batches)])
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        step(batches[i % len(batches)])
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def run(repeats=30, seed=0):
    """Time each implementation; returns [{name, gradspace_ms, numpy_ms, ratio, ...}]."""
    check(seed=seed)
    table, weights, ids = setup(seed)
    numpy_table = table.copy()
    numpy_ms = _median_ms(lambda b: numpy_step(numpy_table, weights, b), ids, repeats)
    w = autograd.Tensor(weights)
    results = []
    for sparse in (True, False):
        embed = gradspace_model(table, sparse)
        ms = _median_ms(lambda b, embed=embed: gradspace_step(embed, w, b), ids, repeats)
        results.append({
            "name": f"embedding {'sparse' if sparse else 'dense'} {V}x{D}, {K} ids",
            "gradspace_ms": ms, "numpy_ms": numpy_ms, "ratio": ms / numpy_ms,
            "sparse": sparse, "repeats": repeats,
        })
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(f"table {V} x {D} float32, {K} ids a step, forward + backward + SGD; "
          f"median of {args.repeats} steps")
    results = run(args.repeats)
    print("check: sparse, dense and numpy tables agree after 3 steps")
    print(f"  {'numpy by hand':<22} {results[0]['numpy_ms']:8.2f} ms/step")
    for r in results:
        label = f"gradspace {'sparse' if r['sparse'] else 'dense'}"
        print(f"  {label:<22} {r['gradspace_ms']:8.2f} ms/step   {r['ratio']:5.2f} x numpy")


if __name__ == "__main__":
    main()
