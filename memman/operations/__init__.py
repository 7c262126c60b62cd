"""Operator work on a store: status/replay/verify, doctor, import/export, embedder and graph maintenance, re-derivation."""
