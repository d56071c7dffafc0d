"""Base configuration: every field, with the MUSE defaults where they exist.

Each field (its default, allowed values, meaning, and whether it is compiled
into the adversarial step) is declared once, in ``bdi_jax/config_schema.py``;
``docs/config-fields.md`` is the table generated from it. The sections:

* top level: ``method`` (an objective, or a computed start such as "gw" or
  "procrustes"), ``seed``, ``n_seeds``, ``restarts``, ``progress``;
* ``data``: embedding files and dictionaries, or ``data.synthetic`` languages;
* ``model``: the critic; ``objective``: each objective's own settings;
* ``train``: the adversarial phase (batch, optimisers, schedule, early stop);
* ``gw``: the Gromov-Wasserstein start; ``refine``: dictionary induction and
  Procrustes rounds; ``eval``: P@k, the criterion, take-off and the detector.

Named configs (see registry.py) start from this one and change a few fields.
Run: ``python -m experiments.run --config=gan_synthetic``.
"""

import ml_collections

from bdi_jax import config_schema


def get_config() -> ml_collections.ConfigDict:
  return config_schema.default_config()
