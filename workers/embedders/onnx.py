"""The `onnx` embedder: all-MiniLM-L6-v2 exported to ONNX with int8
per-channel weights, run with onnxruntime + tokenizers (`memman[onnx]`).

Closer to the full model than `static` (docs/measured-costs.md: cosine 0.99 to torch,
top-10 overlap 0.87) at ~2 ms a query warm and ~300 ms to load cold, so it
suits the worker and long-lived processes; a per-prompt recall pays the load.

The model is not shipped (23 MB, and building it needs torch once, offline):

    python tools/build_onnx_model.py --out ~/.memman/models/minilm-onnx

It is loaded from `embeddings.model_path`, else `<data_dir>/models/minilm-onnx`.
The directory holds model-int8.onnx and tokenizer.json; the graph pools and
normalises inside, so a caller only tokenises ([CLS]/[SEP], max 256 tokens).
The fingerprint's build is the first 12 hex digits of the model file's
SHA-256 (cached next to it), so a rebuilt, different model is a different
fingerprint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from events.errors import ProviderUnavailable
from workers.embedders.base import Fingerprint, InputKind

if TYPE_CHECKING:
    import numpy as np

    from workers.embedders.settings import EmbedderSettings

PROVIDER = "onnx"
MODEL_NAME = "minilm-l6-int8"
MODEL_FILE = "model-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
DIM = 384
MAX_TOKENS = 256
BUILD_COMMAND = "python tools/build_onnx_model.py --out {dir}  (needs torch once; see docs/embeddings.md)"


def model_directory(settings: EmbedderSettings) -> Path:
    if settings.model_path:
        return Path(settings.model_path).expanduser()
    base = Path(settings.models_dir).expanduser() if settings.models_dir else Path("~/.memman/models").expanduser()
    return base / "minilm-onnx"


def _build_id(model: Path) -> str:
    """SHA-256 prefix of the model, cached beside it keyed by size and mtime."""
    st = model.stat()
    stamp = f"{st.st_size}:{st.st_mtime_ns}"
    cache = model.with_name(".build")
    try:
        cached_stamp, digest = cache.read_text().split()
        if cached_stamp == stamp:
            return digest
    except (OSError, ValueError):
        pass
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:12]
    try:
        cache.write_text(f"{stamp} {digest}\n")
    except OSError:
        pass  # a read-only model directory: recompute next time
    return digest


class OnnxEmbedder:
    def __init__(self, session: object, tokenizer: object, *, build: str, batch_size: int = 64) -> None:
        self.fingerprint = Fingerprint(provider=PROVIDER, model=MODEL_NAME, dim=DIM, build=build)
        self._session = session
        self._tokenizer = tokenizer
        self._batch = max(1, min(batch_size, 128))

    @classmethod
    def load(cls, directory: Path, *, batch_size: int = 64) -> OnnxEmbedder:
        try:
            import onnxruntime
            import tokenizers
        except ImportError as exc:
            raise ProviderUnavailable(
                f"the onnx embedder needs onnxruntime and tokenizers ({exc.name} is missing); "
                "install the extra: pip install 'memman[onnx]'"
            ) from None
        model, tok = directory / MODEL_FILE, directory / TOKENIZER_FILE
        missing = [p.name for p in (model, tok) if not p.is_file()]
        if missing:
            raise ProviderUnavailable(
                f"onnx model not found: {', '.join(missing)} missing in {directory}; build it with "
                + BUILD_COMMAND.format(dir=directory)
                + ", or set embeddings.model_path"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # the worker runs beside agents; one core is plenty
        options.inter_op_num_threads = 1
        try:
            session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
            tokenizer = tokenizers.Tokenizer.from_file(str(tok))
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors for bad files
            raise ProviderUnavailable(
                f"onnx model in {directory} cannot be loaded ({type(exc).__name__}); rebuild it with "
                + BUILD_COMMAND.format(dir=directory)
            ) from exc
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()
        return cls(session, tokenizer, build=_build_id(model), batch_size=batch_size)

    def embed(self, texts: Sequence[str], *, kind: InputKind = "document") -> np.ndarray:
        import numpy as np

        out = np.zeros((len(texts), DIM), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))  # type: ignore[attr-defined]
        # similar lengths batch together, so little compute goes to padding
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self._batch):
            rows = order[start : start + self._batch]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            (vectors,) = self._session.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})  # type: ignore[attr-defined]
            out[rows] = vectors
        empty = [i for i, t in enumerate(texts) if not t.strip()]
        out[empty] = 0.0
        return out
