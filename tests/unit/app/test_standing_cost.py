"""What each stage costs per month with no traffic (bench/costs.py), as the README and the archive page state it."""

from __future__ import annotations

from typing import Any

from bench.costs import Standing, standing_per_month
from tests.conftest import ROOT


def test_each_stage_standing_charges_are_its_alarms_dashboard_and_keys(stage_templates: dict[str, Any]) -> None:
    # the logger's and the alerts' five alarms each; prod adds the archive's two, the log and data keys
    assert standing_per_month(stage_templates["dev"]) == Standing(alarm_metrics=10, dashboards=1, keys=0)
    assert standing_per_month(stage_templates["prod"]) == Standing(alarm_metrics=12, dashboards=1, keys=2)
    dev, prod = (standing_per_month(stage_templates[stage]).total for stage in ("dev", "prod"))
    assert (round(dev, 2), round(prod, 2)) == (4.00, 6.20)

    for page in (ROOT / "README.md", ROOT / "docs" / "archive.md"):
        text = " ".join(page.read_text().split())  # as the page reads, whatever its line breaks
        assert f"`dev` {dev:.2f} USD a month (10 alarms, 1 dashboard)" in text, page
        assert f"`prod` {prod:.2f} (12 alarms, 1 dashboard, the log and data keys)" in text, page


def test_an_alarm_on_metric_math_costs_each_metric_it_reads() -> None:
    template = {
        "Resources": {
            "Math": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {"Metrics": [{"Id": "a", "MetricStat": {}}, {"Id": "b", "MetricStat": {}}, {"Id": "e"}]},
            },
            "Plain": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors"}},
        }
    }
    assert standing_per_month(template) == Standing(alarm_metrics=3, dashboards=0, keys=0)
