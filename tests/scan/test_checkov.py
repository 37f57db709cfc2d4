"""checkov, the scanner many pipelines gate on, run on every template the tests synthesize.

`make scan` runs this module (marker `scan`; `make test` leaves it out): checkov pins its own
boto3 and more, so it lives in a virtualenv of its own, `.venv-checkov`, from
requirements-scan.txt, and `CHECKOV` says where its executable is. checkov runs once, on the
templates as synthesized and on copies without their checkov skips: every skip must hide a real
failure (none is stale) and carry its reason, and nothing else may fail.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from tests.conftest import CDK_CONTEXT, ROOT
from tests.variants import FIXTURE_REASON, build_variants, variant_templates

pytestmark = pytest.mark.scan

CHECKOV = Path(os.environ.get("CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))
SCANNED = "scanned"
UNSKIPPED = "unskipped"


def without_checkov_skips(template: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(template)
    for resource in stripped["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    return stripped


@pytest.fixture(scope="module")
def templates(stage_templates: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The app's template in each stage and the construct's in each other configuration, by name."""
    app = cdk.App(context=CDK_CONTEXT, outdir=str(tmp_path_factory.mktemp("variants")))
    build_variants(app)
    app.synth()
    return {
        **{f"app-{stage}": template for stage, template in stage_templates.items()},
        **{f"variant-{name}": template for name, template in variant_templates(app).items()},
    }


@pytest.fixture(scope="module")
def checkov(templates: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """checkov's JSON report over both folders, scanned/ (as synthesized) and unskipped/."""
    if not CHECKOV.is_file():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run `make scan`, which installs it first.")
    root = tmp_path_factory.mktemp("checkov")
    for folder, transform in ((SCANNED, dict), (UNSKIPPED, without_checkov_skips)):
        (root / folder).mkdir()
        for name, template in templates.items():
            (root / folder / f"{name}.template.json").write_text(json.dumps(transform(template), indent=1))
    # --skip-download: no call to the vendor's platform (no API key, and CI has no network).
    completed = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(root),
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # checkov exits 1 when a check fails; the tests below say which.
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


def results(report: dict[str, Any], kind: str, folder: str) -> list[dict[str, Any]]:
    return [r for r in report["results"][kind] if r["file_path"].startswith(f"/{folder}/")]


def findings(checks: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """(template, resource, check) of each result."""
    return Counter((Path(r["file_path"]).name, r["resource"], r["check_id"]) for r in checks)


def test_checkov_checked_every_template(checkov: dict[str, Any], templates: dict[str, Any]) -> None:
    """Also prints the counts the README quotes (`make scan` shows them)."""
    kinds = ("passed_checks", "failed_checks", "skipped_checks")
    counts = {
        name: {
            kind: sum(Path(r["file_path"]).name == f"{name}.template.json" for r in results(checkov, kind, SCANNED))
            for kind in kinds
        }
        for name in sorted(templates)
    }
    for name, per_kind in counts.items():
        print(f"checkov {name}: {per_kind}")
    totals = {kind: sum(per_kind[kind] for per_kind in counts.values()) for kind in kinds}
    print(f"checkov, all {len(counts)} templates: {totals}")

    assert checkov["summary"]["parsing_errors"] == 0
    assert [name for name, per_kind in counts.items() if per_kind["passed_checks"] == 0] == []
    # The copies without skips: stripping them left none.
    assert results(checkov, "skipped_checks", UNSKIPPED) == []


def test_checkov_finds_no_failure_in_any_template(checkov: dict[str, Any]) -> None:
    assert sorted(findings(results(checkov, "failed_checks", SCANNED))) == []


def test_every_checkov_skip_hides_a_real_failure_and_carries_its_reason(checkov: dict[str, Any]) -> None:
    skipped = results(checkov, "skipped_checks", SCANNED)

    assert findings(skipped) == findings(results(checkov, "failed_checks", UNSKIPPED))
    for result in skipped:
        comment = result["check_result"]["suppress_comment"]
        assert len(comment) > 80 or comment == FIXTURE_REASON, result["check_id"]
