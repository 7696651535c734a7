"""Computation: populate() and make(), key sources, the jobs table, worker processes and executors, run metadata."""
