"""Benchmark harness: bench/run."""
