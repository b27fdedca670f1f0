"""Benchmarks for swarm: run with `python -m bench`."""
