"""The static embedder: memman's default local embedder, shipped with the package.

It promises the `Embedder` contract (float32 rows, unit length, zero rows for
texts with no tokens, deterministic), a fingerprint whose build is the hash of
the shipped table, a tokenizer that matches BERT's id for id, and vectors that
carry meaning rather than just shared words: paraphrases with no content word
in common must score clearly above unrelated pairs.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from events.errors import ProviderUnavailable
from workers.embedders.static import StaticEmbedder, default_path
from workers.embedders.wordpiece import WordPieceTokenizer


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return StaticEmbedder.load()


# Pairs that mean the same thing but share no content word (checked below).
PARAPHRASES = [
    ("the database is SQLite", "we store data in an embedded SQL engine"),
    ("The user prefers dark mode in the editor", "she likes a black background theme when coding"),
    ("Deploys happen every Friday afternoon", "we ship releases to production at the end of each week"),
    ("The build failed because a dependency was missing", "compilation broke since a required package could not be found"),
    ("Alice is allergic to peanuts", "she cannot eat nuts without a severe reaction"),
    ("The meeting was moved to Tuesday", "we postponed our call until the day after Monday"),
    ("Tests run in continuous integration on every commit", "each push triggers the automated checks on the CI server"),
    ("The API returns errors when the token expires", "requests fail once the credentials are no longer valid"),
    ("He lives in Paris", "his home is in the French capital"),
    ("The laptop battery drains quickly", "my notebook computer loses charge fast"),
    ("The cat is sleeping on the sofa", "a kitten naps on the couch"),
    ("Memory usage grew until the process crashed", "RAM consumption kept rising and the program died"),
]
UNRELATED = [
    ("The quarterly revenue exceeded forecasts", "Rust's borrow checker rejects dangling references"),
    ("My favourite color is green", "The server listens on port 8080"),
    ("Water boils at one hundred degrees", "Please review my pull request"),
    ("The concert starts at eight", "Indexes speed up lookups on large tables"),
    ("She planted tomatoes in the garden", "The compiler emits a warning for unused variables"),
    ("The train to Berlin was delayed", "Passwords are hashed with bcrypt"),
    ("He plays the violin in an orchestra", "The function returns a list of integers"),
    ("Snow fell overnight in the mountains", "Invoices are sent on the first of the month"),
    ("The museum opens at nine", "Use a mutex to protect the shared counter"),
    ("Our dog loves long walks", "The spreadsheet has a formula error"),
]
STOPWORDS = {"the", "a", "an", "is", "in", "on", "to", "of", "at", "we", "she", "he", "his", "my", "our", "and", "each", "every"}

# Ids produced once by the `tokenizers` library from all-MiniLM-L6-v2's
# tokenizer.json (add_special_tokens=False); the build script also checks
# ~1,700 sentences against it on every rebuild.
GOLDEN_IDS = [
    ("The database is SQLite.", [1996, 7809, 2003, 29296, 4221, 1012]),
    ("Don't stop-believing!!! e.g. U.S.A.", [2123, 1005, 1056, 2644, 1011, 8929, 999, 999, 999, 1041, 1012, 1043, 1012, 1057, 1012, 1055, 1012, 1037, 1012]),
    ("Café naïve résumé", [7668, 15743, 13746]),
    ("東京は日本の首都です。", [1879, 1755, 1672, 1864, 1876, 1671, 100, 1961, 1665, 30184, 1636]),
    ("ΟΔΟΣ Σίσυφος", [1169, 29722, 29730, 29733, 1173, 18199, 29733, 29735, 29736, 15297]),
    ("sqlite3.OperationalError: database is locked", [29296, 4221, 2509, 1012, 6515, 2121, 29165, 1024, 7809, 2003, 5299]),
    ("tab\there\x0bvt nul\x00char", [21628, 2182, 2615, 2102, 16371, 29358, 2906]),
    ("emoji 😀 unhappiness", [7861, 29147, 2072, 100, 4895, 3270, 9397, 9961]),
    ("hello [SEP] world", [7592, 102, 2088]),
    ("x" * 101, [100]),
    ("Привет, мир", [1194, 16856, 10325, 25529, 15290, 22919, 1010, 1191, 10325, 16856]),
    ("", []),
]


def cosines(embedder: StaticEmbedder, pairs: list[tuple[str, str]]) -> np.ndarray:
    left = embedder.embed([a for a, _ in pairs])
    right = embedder.embed([b for _, b in pairs])
    return (left * right).sum(axis=1)


def test_shipped_artifact_loads_with_its_fingerprint(embedder: StaticEmbedder) -> None:
    config = json.loads((default_path() / "config.json").read_text())
    fp = embedder.fingerprint
    assert (fp.provider, fp.model, fp.dim) == ("static", "minilm-l6-static-256", 256)
    assert fp.build == config["build"]
    assert fp.key == f"static:minilm-l6-static-256:256:{config['build']}"


def test_fingerprint_build_is_the_hash_of_the_shipped_table(embedder: StaticEmbedder) -> None:
    # The build script hashes embeddings.npy after writing it; a table edited or
    # rebuilt without updating config.json would bind stores to the wrong vectors.
    digest = hashlib.sha256((default_path() / "embeddings.npy").read_bytes()).hexdigest()
    assert embedder.fingerprint.build == digest[:12]


def test_table_is_float16_vocab_by_256() -> None:
    table = np.load(default_path() / "embeddings.npy", mmap_mode="r")
    assert table.dtype == np.float16
    assert table.shape == (30522, 256)


def test_rows_are_float32_unit_vectors(embedder: StaticEmbedder) -> None:
    vectors = embedder.embed(["remember that the cache lives in ~/.cache", "a second, longer text about queues"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (2, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_embedding_is_deterministic_across_loads(embedder: StaticEmbedder) -> None:
    texts = ["the database is SQLite", "Café naïve résumé", "東京"]
    assert embedder.embed(texts).tobytes() == StaticEmbedder.load().embed(texts).tobytes()


@pytest.mark.parametrize("text", ["", "   \n\t", "😀", "[SEP] [CLS]", "\x00\x01"])
def test_text_with_no_embeddable_token_gives_a_zero_row(embedder: StaticEmbedder, text: str) -> None:
    assert not embedder.embed([text]).any()


def test_empty_batch_gives_an_empty_array(embedder: StaticEmbedder) -> None:
    assert embedder.embed([]).shape == (0, 256)


def test_a_batch_equals_one_text_at_a_time(embedder: StaticEmbedder) -> None:
    # Empty texts in the middle and at both ends exercise the segment arithmetic.
    texts = ["", "first text", "", "", "second, different text", "x", ""]
    batch = embedder.embed(texts)
    for row, text in zip(batch, texts):
        np.testing.assert_allclose(row, embedder.embed([text])[0], atol=1e-6)


def test_query_and_document_kinds_give_the_same_vector(embedder: StaticEmbedder) -> None:
    text = ["where do we keep the vector index?"]
    np.testing.assert_array_equal(embedder.embed(text, kind="query"), embedder.embed(text, kind="document"))


def test_special_and_unknown_tokens_do_not_move_the_vector(embedder: StaticEmbedder) -> None:
    plain, noisy = embedder.embed(["hello world", "hello 😀 [SEP] world [MASK]"])
    np.testing.assert_allclose(plain, noisy, atol=1e-6)


def test_only_the_first_max_tokens_count(embedder: StaticEmbedder) -> None:
    head = " ".join(["alpha"] * 512)
    np.testing.assert_allclose(embedder.embed([head + " omega" * 50]), embedder.embed([head]), atol=1e-6)


def test_paraphrase_pairs_share_no_content_words() -> None:
    # Guards the next test: it must measure meaning, not word overlap.
    for a, b in PARAPHRASES:
        shared = set(re.findall(r"[a-z]+", a.lower())) & set(re.findall(r"[a-z]+", b.lower()))
        assert shared <= STOPWORDS, (a, b, shared)


def test_paraphrases_score_clearly_higher_than_unrelated_pairs(embedder: StaticEmbedder) -> None:
    # Measured at build 93381a1159c1: paraphrases 0.53 on average, unrelated
    # pairs 0.06 (the full MiniLM gives 0.55 and 0.05 on the same pairs).
    paraphrase, unrelated = cosines(embedder, PARAPHRASES), cosines(embedder, UNRELATED)
    assert paraphrase.mean() - unrelated.mean() > 0.35
    assert paraphrase.min() > unrelated.max()


def test_paraphrase_is_found_in_the_top_three_of_a_small_retrieval(embedder: StaticEmbedder) -> None:
    texts = [a for a, _ in PARAPHRASES] + [b for _, b in PARAPHRASES] + [t for pair in UNRELATED for t in pair]
    vectors = embedder.embed(texts)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    n = len(PARAPHRASES)
    hits = 0
    for i in range(n):
        hits += (n + i) in np.argsort(-sims[i])[:3]
        hits += i in np.argsort(-sims[n + i])[:3]
    assert hits / (2 * n) >= 0.9  # measured: 1.0


@pytest.mark.parametrize(("text", "ids"), GOLDEN_IDS)
def test_tokenizer_matches_bert_golden_ids(text: str, ids: list[int]) -> None:
    tokenizer = WordPieceTokenizer.from_vocab_file(default_path() / "vocab.txt")
    assert tokenizer.encode(text) == ids


def test_tokenizer_turns_pieces_into_readable_tokens() -> None:
    tokenizer = WordPieceTokenizer.from_vocab_file(default_path() / "vocab.txt")
    assert tokenizer.tokenize("Unhappiness!") == ["un", "##ha", "##pp", "##iness", "!"]


def test_wordpiece_module_imports_only_the_standard_library() -> None:
    code = "import sys, workers.embedders.wordpiece; print(sorted({'numpy', 'msgspec'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_artifact_is_reported_as_provider_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ProviderUnavailable, match="embeddings.npy"):
        StaticEmbedder.load(tmp_path)


# The query side without numpy (a cold recall's path, docs/scale.md).

QUERIES = ["what timeout does the billing service use", "Dana: that's so nice!", "", "[CLS] ???", "数据库 Kubernetes k8s"]


@pytest.mark.parametrize("text", QUERIES)
def test_a_query_vector_without_numpy_equals_embed(embedder: StaticEmbedder, text: str) -> None:
    plain = embedder.embed_query(text)
    assert isinstance(plain, list) and len(plain) == 256
    assert np.allclose(plain, embedder.embed([text])[0], atol=1e-6)


def test_weighted_query_pools_each_word_with_its_weight(embedder: StaticEmbedder) -> None:
    words = [("billing", 2.5), ("timeout", 1.0), ("dana", 0.0), ("zorblax", 0.7)]
    table = np.load(default_path() / "embeddings.npy", mmap_mode="r").astype(np.float32)
    expected = sum(w * table[embedder.token_ids(word)].sum(axis=0) for word, w in words if w > 0)
    expected = expected / np.linalg.norm(expected)
    assert np.allclose(embedder.embed_weighted(words), expected, atol=1e-6)
    assert embedder.embed_weighted([("dana", 0.0)]) == [0.0] * 256  # nothing left: a zero row


def test_loading_and_a_query_vector_import_no_numpy() -> None:
    code = (
        "import sys\nfrom workers.embedders.static import StaticEmbedder\n"
        "e = StaticEmbedder.load(); e.embed_query('billing timeout'); e.embed_weighted([('billing', 1.0)])\n"
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("damage", ["truncated", "not-npy", "float32"])
def test_a_damaged_table_is_reported_as_provider_unavailable(tmp_path: Path, damage: str) -> None:
    for name in ("vocab.txt", "config.json"):
        (tmp_path / name).write_bytes((default_path() / name).read_bytes())
    table = default_path() / "embeddings.npy"
    if damage == "truncated":
        (tmp_path / "embeddings.npy").write_bytes(table.read_bytes()[:100_000])
    elif damage == "not-npy":
        (tmp_path / "embeddings.npy").write_bytes(b"not a numpy file at all")
    else:
        np.save(tmp_path / "embeddings.npy", np.zeros((30522, 256), dtype=np.float32))
    with pytest.raises(ProviderUnavailable, match="unreadable"):
        StaticEmbedder.load(tmp_path)
