"""tools/bench_vector_steps.py: the CPU of each step of recall's index path
(HNSW search, rows, rescoring, the sample), on a real store with a real
saved index. Figures are benchmarks (docs/scale.md), never asserted; a
store without the index path and bad arguments are one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from memman.operations.maintenance import drain_all
from memman.service import Memman
from tests.tools.runner import drained_store, run_tool
from workers.vectors import annindex


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_tool("bench_vector_steps.py", *args, timeout=600)


def test_it_times_each_step_of_the_index_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(annindex, "MIN_ROWS", 20)  # the drain keeps and saves an index for this small store
    monkeypatch.setattr(annindex, "SAVE_AFTER", 20)
    data = tmp_path / "data"
    with Memman(data, store="default") as app:
        for n in range(40):
            app.remember(f"Note {n}: the billing service in region {n % 7} times out after {n * 3} seconds")
    drain_all(data)
    with Memman(data, store="default") as app:
        app.remember("Deploys go out on Tuesdays after the freeze")
    drain_all(data)  # attaches the index (the store held MIN_ROWS vectors as it started) and saves it
    assert list((data / "stores" / "default").glob("vectors-*.hnsw"))
    run = _run("--data", str(data), "--passes", "1", "--ann-rows", "20")
    assert run.returncode == 0, run.stderr
    for step in ("search", "positions", "rows", "rescore", "sample", "candidates", "vector_hits"):
        assert f"| {step} |" in run.stdout


def test_a_store_without_the_index_path_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    drained_store(data)
    run = _run("--data", str(data))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [
        f"bench_vector_steps: {data}: recall takes no index path there (fewer vectors than ANN_ROWS, "
        "or no saved HNSW index: the drain builds it); nothing to time"
    ]


def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "stores" / "default").mkdir(parents=True)
    for args in (["--data", str(tmp_path / "none")], ["--data", str(tmp_path), "--passes", "0"],
                 ["--data", str(tmp_path), "--ann-rows", "0"], ["--data", str(tmp_path), "--passes", "x"]):  # fmt: skip
        run = _run(*args)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert run.stderr.strip().splitlines()[-1].startswith("bench_vector_steps.py: error:")
