"""Batches (seed 000): a job run as ``concurrent`` sub-jobs started ``jobs_per_second`` at a
time, each through its ``iterations``, steered by start / stop / pause / unpause directives."""
