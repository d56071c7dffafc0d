"""The 2-D lab: the library's objectives and discriminator on toy distributions.

Each script is runnable as ``python -m experiments.toy.<name> --workdir DIR``;
see ``README.md`` for what each one shows.
"""
