"""Benchmarks of bdi-jax: training speed, retrieval, refinement, end to end.

Run ``python -m benchmarks.run --help``; see benchmarks/README.md for what each
figure means.
"""
