"""bdi-jax: unsupervised bilingual dictionary induction with stable GANs."""

__version__ = "0.1.0"
