"""The prebuilt vocabulary index (workers/embedders/vocab_index.py): the
shipped one is current, gives every token the id vocab.txt gives it, and a
missing, stale or damaged index falls back to vocab.txt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workers.embedders.static import default_path
from workers.embedders.vocab_index import BucketVocab, write_index
from workers.embedders.wordpiece import INDEX_NAME, WordPieceTokenizer

ROOT = Path(__file__).resolve().parents[2]


def _plain() -> WordPieceTokenizer:
    tokens = (default_path() / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return WordPieceTokenizer(tokens[:-1] if tokens[-1] == "" else tokens)


def test_the_shipped_index_is_current_and_used() -> None:
    tokenizer = WordPieceTokenizer.from_vocab_file(default_path() / "vocab.txt")
    assert isinstance(tokenizer.vocab, BucketVocab)
    plain = _plain()
    assert len(tokenizer.vocab) == len(plain.vocab) == 30522
    assert dict(tokenizer.vocab.items()) == plain.vocab
    assert (tokenizer.unk_id, tokenizer.special_ids) == (plain.unk_id, plain.special_ids)


def test_rebuilding_the_index_gives_the_shipped_bytes(tmp_path: Path) -> None:
    write_index(default_path() / "vocab.txt", tmp_path / INDEX_NAME)
    assert (tmp_path / INDEX_NAME).read_bytes() == (default_path() / INDEX_NAME).read_bytes()


@pytest.mark.parametrize(
    "text",
    [
        "what timeout does the billing service use",
        "Priya prefers neovim for code review on checkout-api.",
        "Ünïcödé naïve café, 数据库在哪里, emoji ☕ and [CLS] tokens ## #",
        "x" * 150 + " supercalifragilisticexpialidocious",
    ],
)
def test_index_and_vocab_txt_encode_alike(text: str) -> None:
    indexed = WordPieceTokenizer.from_vocab_file(default_path() / "vocab.txt")
    assert indexed.encode(text) == _plain().encode(text)


def test_a_duplicated_token_keeps_its_first_id(tmp_path: Path) -> None:
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\nab\n##c\nab\nd\n", encoding="utf-8")
    write_index(tmp_path / "vocab.txt", tmp_path / INDEX_NAME)
    tokenizer = WordPieceTokenizer.from_vocab_file(tmp_path / "vocab.txt")
    assert isinstance(tokenizer.vocab, BucketVocab)
    assert len(tokenizer.vocab) == 6
    assert tokenizer.encode("abc d zz") == [2, 3, 5, 1]


@pytest.mark.parametrize("damage", ["missing", "stale", "same-size", "garbage", "other-format"])
def test_a_bad_index_falls_back_to_vocab_txt(tmp_path: Path, damage: str) -> None:
    shutil.copyfile(default_path() / "vocab.txt", tmp_path / "vocab.txt")
    index = tmp_path / INDEX_NAME
    write_index(tmp_path / "vocab.txt", index)
    if damage == "missing":
        index.unlink()
    elif damage == "stale":
        with (tmp_path / "vocab.txt").open("a", encoding="utf-8") as f:
            f.write("newtoken\n")
    elif damage == "same-size":  # another vocab.txt of the same length: two tokens swapped
        text = (tmp_path / "vocab.txt").read_text(encoding="utf-8")
        (tmp_path / "vocab.txt").write_text(text.replace("\nthe\n", "\nTHE\n", 1), encoding="utf-8")
    elif damage == "garbage":
        index.write_bytes(b"\xff\xfe not an index")
    else:
        index.write_bytes(index.read_bytes().replace(b'"format": 1', b'"format": 9', 1))
    tokenizer = WordPieceTokenizer.from_vocab_file(tmp_path / "vocab.txt")
    assert isinstance(tokenizer.vocab, dict)
    assert tokenizer.encode("billing service") == _plain().encode("billing service")


def _first_ids(vocab_txt: Path) -> dict[str, int]:
    first: dict[str, int] = {}
    for i, token in enumerate(vocab_txt.read_text(encoding="utf-8").split("\n")):
        if token:
            first.setdefault(token, i)
    return first


def test_a_bucket_searched_by_bytes_answers_as_its_dict_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bucket's first lookups search its bytes (no dict built); every token
    of the vocab, and tokens it lacks, get the same answer either way."""
    from workers.embedders import vocab_index

    directory = default_path()
    expected = _first_ids(directory / "vocab.txt")
    misses = ["", "zorblax", "##zzqq", "ünïcode", "\ud800", "a\nb", "the\nthe", "[UNK]x", "##"]
    monkeypatch.setattr(vocab_index, "SCAN_PROBES", 10**9)  # never build a dict
    scanned = BucketVocab.open(directory / INDEX_NAME, directory / "vocab.txt")
    assert scanned is not None
    assert {t: scanned.get(t) for t in expected} == expected
    assert [scanned.get(t) for t in misses] == [expected.get(t) for t in misses]
    assert not scanned._loaded  # noqa: SLF001 - the point: no bucket was decoded into a dict
    monkeypatch.setattr(vocab_index, "SCAN_PROBES", 2)  # the third lookup of a bucket builds its dict
    mixed = BucketVocab.open(directory / INDEX_NAME, directory / "vocab.txt")
    assert mixed is not None
    assert {t: mixed.get(t) for t in expected} == expected
    assert mixed._loaded  # noqa: SLF001
