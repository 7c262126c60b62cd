"""The extractor's precomputed class of upper-case letters
(workers/stages/upper_class.py) is what scanning the code points gives."""

from __future__ import annotations

import unicodedata

import pytest

from workers.stages import extract
from workers.stages.upper_class import UNIDATA_VERSION, UPPER_CLASS


@pytest.mark.skipif(unicodedata.unidata_version != UNIDATA_VERSION, reason="another Unicode database recomputes it")
def test_the_shipped_class_matches_the_scan() -> None:
    assert UPPER_CLASS == extract._upper_class()


def test_the_extractor_uses_the_class_for_this_python() -> None:
    assert extract._UPPER == extract._upper_class()
