"""Entities: one canonical form per named thing (`aliases`), used by recall,
the reconciler and the entity graph."""
