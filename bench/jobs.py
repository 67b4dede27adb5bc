"""The job code the benchmarks run, written as ``benchjobs.py`` into each server's root dir (jobs
run with cwd = root_dir, so ``benchjobs:noop`` imports it)."""

BENCHJOBS = '''\
"""Jobs of the jobext benchmarks (written by bench/jobs.py)."""

import time


def noop():
    """A trivial job: returns at once."""


def spew(n=100_000):
    """Print ``n`` lines, each with its number and the time it was printed."""
    now = time.time
    for i in range(n):
        print(f"{i} {now()}")
'''
