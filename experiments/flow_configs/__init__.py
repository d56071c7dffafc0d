"""Configs of ``python -m experiments.flows``: one per row of the source
thesis's Tables 5.1-5.3 (kept apart from the BDI registry)."""
