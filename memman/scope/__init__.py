"""Scope follows the work: a store per project plus a personal store.

    resolve.py   which stores a working directory maps to (pure, stdlib only)
    service.py   `Scoped`: remember into the right store, recall both
                 (project first), find an id in either
"""
