"""Benchmarks of the coalition site against minimal baselines (see bench/README.md)."""
