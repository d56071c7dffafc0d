"""Normalizing flows as GAN generators (source thesis, Chapters 3-5).

NICE flows with additive coupling (:mod:`nice`), mixtures of them
("Mixflow", :mod:`mixflow`), the posterior-weighted critic mixture ("PGAN",
:mod:`critics`), and one training step for ML, GAN and GAN+ML
(:mod:`train`), which reuses :mod:`bdi_jax.objectives.wgangp` for the critic
loss and the gradient penalty. Toy data and an IDX reader live in
:mod:`toy_data` and :mod:`idx`.

Parameters are plain pytrees; every function is pure and takes its RNG key.
"""
