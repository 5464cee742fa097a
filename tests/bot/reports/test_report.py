"""`render_report`: the chosen formats, under dated ASCII file names."""

from __future__ import annotations

from dataclasses import replace

from bot.reports import file_stem, render_report
from bot.reports.labels import Namer
from storage.summary import Summary
from tests.bot.reports.sample import sample_summary


def test_file_names_are_dated_and_ascii(summary: Summary) -> None:
    month = sample_summary(1)
    assert file_stem(month) == "learncity-summary-2026-01"
    this_month = replace(month, period=replace(month.period, text="this-month", kind="this-month"))
    assert file_stem(this_month) == "learncity-summary-2026-01"
    assert file_stem(summary) == "learncity-summary-last-330-days-to-2026-11-30"
    everything = replace(summary, period=replace(summary.period, text="all", kind="all"))
    assert file_stem(everything) == "learncity-summary-all"


def test_only_the_chosen_formats_are_rendered(en: Namer, summary: Summary) -> None:
    report = render_report(summary, en, ("csv", "xlsx"))
    assert [f.kind for f in report.files] == ["csv", "xlsx"]
    assert report.messages == ()
    full = render_report(summary, en, messages=True)
    assert [f.name.rsplit("-", 1)[-1] for f in full.of_kind("png")] == ["topics.png", "trend.png"]
    assert [f.kind for f in full.files] == ["md", "png", "png", "csv", "xlsx"]
    assert full.messages and full.messages[0].startswith("<b>📊 Learning-needs summary</b>")
