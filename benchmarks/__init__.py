"""Benchmarks of bdi-jax: training throughput, retrieval, refinement, end to end.

Run ``python -m benchmarks.run --help``; see benchmarks/README.md for what each
figure means.
"""
