"""Projections inside PostgreSQL (docs/postgres.md "Server projections"):
what `recall` reads on a machine without a local replica (`postgres.reads =
server`), kept by any worker from its own replica (projections/server/mirror.py)."""
