"""The named presets: data sets and one file per method family.

``experiments/configs/registry.py`` assembles them into names
``{method}_{dataset}``; how a name's fields are put together is in
:mod:`experiments.configs.presets.spec`.
"""
