"""Export all-MiniLM-L6-v2 to ONNX with int8 per-channel weights (not shipped).

An option for a future `onnx` embedder that is closer to the full model than
the static one (docs/measured-costs.md: cos 0.99, top-10 overlap 0.87 at ~2 ms a query)
but needs onnxruntime at run time. memman does not ship this file; the script
exists so the model can be produced offline and reproducibly when wanted:

    /tmp/buildenv/bin/pip install onnx onnxruntime onnxscript   # on top of build_static_model.py's venv
    HF_HUB_OFFLINE=1 /tmp/buildenv/bin/python tools/build_onnx_model.py --out /tmp/minilm-onnx

The graph takes `input_ids` and `attention_mask` (int64, batch x seq) and
returns `sentence_embedding` (batch x 384): mean pooling over the mask and L2
normalisation are inside the graph, so a run-time caller only tokenises (with
[CLS]/[SEP], max 256 tokens, as sentence-transformers does). The weights of
MatMul and Gemm nodes and the token-embedding Gather are quantised to int8
per channel (per-tensor loses too much: top-10 overlap 0.75 against 0.87).
Measured here: 23 MB (90 MB fp32); on 1,200 stdlib docstring sentences the
cosine to the torch model is 0.993 on average (min 0.979) and the top-10
neighbour overlap 0.90.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_static_model import model_dir, sample_sentences  # noqa: E402

OPSET = 17
MAX_TOKENS = 256


def export(src: Path, fp32_path: Path) -> None:
    import torch
    from transformers import AutoModel

    class SentenceModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(src), local_files_only=True).eval()

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    model = SentenceModel().eval()
    ids = torch.tensor([[101, 7592, 2088, 102]], dtype=torch.long)
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids)),
        str(fp32_path),
        input_names=["input_ids", "attention_mask"],
        output_names=["sentence_embedding"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "sentence_embedding": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )


def quantize(fp32_path: Path, int8_path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32_path), str(int8_path), per_channel=True, weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gemm", "Gather"],
    )


def evaluate(src: Path, int8_path: Path) -> None:
    """Cosine to the torch model per sentence and top-10 neighbour overlap."""
    import onnxruntime as ort
    import torch
    from transformers import AutoModel, AutoTokenizer

    sentences = [s for s in sample_sentences(1500)[30:] if len(s.split()) >= 4][:1200]
    tok = AutoTokenizer.from_pretrained(str(src), local_files_only=True)
    bert = AutoModel.from_pretrained(str(src), local_files_only=True).eval()
    session = ort.InferenceSession(str(int8_path), providers=["CPUExecutionProvider"])
    ref, ours = [], []
    for i in range(0, len(sentences), 64):
        enc = tok(sentences[i : i + 64], padding=True, truncation=True, max_length=MAX_TOKENS,
                  return_tensors="np")
        feed = {"input_ids": enc["input_ids"].astype(np.int64),
                "attention_mask": enc["attention_mask"].astype(np.int64)}
        ours.append(session.run(["sentence_embedding"], feed)[0])
        with torch.inference_mode():
            t = {k: torch.from_numpy(v) for k, v in feed.items()}
            hidden = bert(**t).last_hidden_state
            mask = t["attention_mask"].unsqueeze(-1).float()
            ref.append(torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1).numpy())
    r, o = np.concatenate(ref), np.concatenate(ours)
    cos = (r * o).sum(1)
    rs, os_ = r @ r.T, o @ o.T
    np.fill_diagonal(rs, -2)
    np.fill_diagonal(os_, -2)
    top_r, top_o = np.argsort(-rs, axis=1)[:, :10], np.argsort(-os_, axis=1)[:, :10]
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_r, top_o)])
    print(f"evaluate: {len(sentences)} sentences; cos to torch mean {cos.mean():.4f} min {cos.min():.4f}; "
          f"top-10 overlap {overlap:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/minilm-onnx"), help="output directory")
    parser.add_argument("--evaluate", action="store_true", help="compare with the torch model")
    args = parser.parse_args()

    src = model_dir()
    args.out.mkdir(parents=True, exist_ok=True)
    fp32, int8 = args.out / "model-fp32.onnx", args.out / "model-int8.onnx"
    export(src, fp32)
    quantize(fp32, int8)
    for name in ("vocab.txt", "tokenizer.json"):
        shutil.copyfile(src / name, args.out / name)
    digest = hashlib.sha256(int8.read_bytes()).hexdigest()[:12]
    print(f"wrote {int8} ({int8.stat().st_size / 1e6:.1f} MB, build {digest}); fp32 {fp32.stat().st_size / 1e6:.1f} MB")
    if args.evaluate:
        evaluate(src, int8)


if __name__ == "__main__":
    main()
