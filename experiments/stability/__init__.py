"""The stability study: many seeds per config, success against a baseline.

``python -m experiments.stability`` (see ``__main__``); the statistics are
``bdi_jax.study_stats``'.
"""
