"""The retention lifecycle: effective importance (retention.py), use recorded
off the hot path (access.py), immunity and garbage collection (gc.py).
See docs/lifecycle.md."""
