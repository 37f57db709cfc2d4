"""Where `make bench` writes its results: only a full run rewrites the tracked bench/RESULTS.md."""

from __future__ import annotations

import subprocess

from bench import run
from tests.conftest import ROOT


def test_a_quick_run_writes_beside_its_data_and_not_over_the_results() -> None:
    quick = run.results_path(quick=True)

    assert run.results_path(quick=False) == ROOT / "bench" / "RESULTS.md"
    assert quick != run.RESULTS
    # Untracked: git ignores it, so a quick run leaves the working tree clean.
    ignored = subprocess.run(["git", "check-ignore", "-q", str(quick)], cwd=ROOT, check=False)
    assert ignored.returncode == 0
