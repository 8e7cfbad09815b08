"""gradspace's benchmarks: each workload as a gradspace step and a hand-written numpy step.

Run them all with `python bench/run.py`; see bench/README.md.
"""
