"""The reliability suite reuses the CLI suite's runner (`cli`, one real
subprocess per call) and its one-line error contract."""

from tests.cli.conftest import cli  # noqa: F401 - the fixture, shared
