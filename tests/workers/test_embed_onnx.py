"""The optional `onnx` embedder: clear errors when the extra or the model is
missing (testable everywhere), and, only where a built model is available,
a quality check against the static default."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from events.errors import ProviderUnavailable
from workers.embedders import create_embedder
from workers.embedders.onnx import OnnxEmbedder, model_directory
from workers.embedders.settings import EmbedderSettings

# Where a model built with tools/build_onnx_model.py may be found on this machine.
MODEL_DIR = Path(os.environ.get("ONNX_MODEL_DIR", "/tmp/minilm-onnx"))


def test_without_onnxruntime_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(ProviderUnavailable, match=r"pip install 'memman\[onnx\]'"):
        OnnxEmbedder.load(tmp_path)


def test_a_missing_model_names_the_build_command(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime", reason="the extra is not installed; the error above covers this case")
    with pytest.raises(ProviderUnavailable, match="tools/build_onnx_model.py --out") as info:
        OnnxEmbedder.load(tmp_path / "nowhere")
    assert "model-int8.onnx" in str(info.value)


def test_a_corrupt_model_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime", reason="memman[onnx] not installed")
    (tmp_path / "model-int8.onnx").write_bytes(b"not a model")
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ProviderUnavailable, match="cannot be loaded"):
        OnnxEmbedder.load(tmp_path)


def test_the_model_lives_in_config_or_under_the_data_dir(tmp_path: Path) -> None:
    assert model_directory(EmbedderSettings(models_dir=str(tmp_path))) == tmp_path / "minilm-onnx"
    assert model_directory(EmbedderSettings(model_path=str(tmp_path / "m"))) == tmp_path / "m"


@pytest.mark.skipif(
    not (MODEL_DIR / "model-int8.onnx").is_file(),
    reason=f"no ONNX model at {MODEL_DIR}: build one with tools/build_onnx_model.py (needs torch) to run this check",
)
def test_onnx_ranks_paraphrases_at_least_as_well_as_static() -> None:
    pytest.importorskip("onnxruntime", reason="memman[onnx] not installed")
    onnx = create_embedder("onnx", EmbedderSettings(model_path=str(MODEL_DIR)))
    static = create_embedder("static")
    a = ["The meeting was moved to Thursday", "She adopted a puppy last week", "Our servers run out of disk space",
         "He is learning to play the violin", "The invoice has not been paid yet"]
    b = ["We rescheduled the call for later in the week", "A young dog joined her family recently",
         "Storage on the machines is nearly full", "He takes lessons on a string instrument",
         "The bill is still outstanding"]

    def accuracy(embedder) -> float:  # type: ignore[no-untyped-def]
        sims = embedder.embed(a) @ embedder.embed(b).T
        return float(np.mean(np.argmax(sims, axis=1) == np.arange(len(a))))

    assert onnx.fingerprint.dim == 384 and onnx.fingerprint.provider == "onnx"
    assert accuracy(onnx) >= accuracy(static) and accuracy(onnx) >= 0.8
