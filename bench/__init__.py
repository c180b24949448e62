"""Benchmarks that print their figures next to baselines measured in the same run."""
