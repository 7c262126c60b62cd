"""Erasure: `memman purge` destroys the content of memories everywhere it is
stored, keeping a content-free tombstone (docs/lifecycle.md, "Purge")."""
