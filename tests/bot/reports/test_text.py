"""The chat text: Telegram HTML within 4096 characters a message, "<5" for hidden cells, Thai
dates in the Buddhist Era; and the same document as Markdown."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.emulator.html_entities import check_message_text
from bot.reports.labels import Namer
from bot.reports.text import MESSAGE_LIMIT, summary_markdown, summary_messages
from storage.summary import Summary, Suppressed, Theme
from tests.bot.reports.sample import empty_summary, sample_summary


def _shown(messages: list[str]) -> list[str]:
    """What Telegram shows: the text once the HTML is parsed (and checked as Telegram does)."""
    return [check_message_text(message, "HTML")[0] for message in messages]


def test_the_thai_summary_fits_and_reads_as_expected(th: Namer, summary: Summary) -> None:
    messages = summary_messages(summary, th)
    assert all(len(m) <= MESSAGE_LIMIT for m in messages)
    text = "\n".join(_shown(messages))
    assert "📊 สรุปความต้องการเรียนรู้" in text
    assert "ผู้ตอบแบบสำรวจ: 731" in text
    assert "ช่วงเวลา: 334 วันล่าสุด (1 ม.ค. 2569 – 30 พ.ย. 2569)" in text
    assert "• ทักษะดิจิทัล: 412 คน (56%)" in text
    assert "• ค้าขายออนไลน์: <5 คน" in text  # hidden (small)
    assert "• วัฒนธรรมท้องถิ่น: <5 คน" in text  # hidden (complementary): the same marker
    assert "complementary" not in text and "small" not in text
    assert "การเรียนรู้ด้วยเทคโนโลยี" not in text  # only the catalog's wording of the feature
    assert "การใช้เทคโนโลยีการเรียนรู้สมัยใหม่ · SDG 4, 9" in text
    assert "• เบตง:" in text and "• ไม่ระบุอำเภอ:" in text
    assert "• ภาษามลายู:" in text
    assert "• พ.ย. 2569:" in text
    assert "• ภาษาอังกฤษ: 42 คน, 57 ข้อความ" in text
    assert "ยังไม่มีสิ่งที่จัดให้: ภาษาอังกฤษและภาษามลายู, การเงินครัวเรือน" in text
    assert "“<5” หมายถึงน้อยกว่า 5 คน" in text
    assert not re.search(r"\b2026\b", text)  # Thai dates are Buddhist Era only


def test_the_english_summary(en: Namer, summary: Summary) -> None:
    text = "\n".join(_shown(summary_messages(summary, en)))
    assert "Period: Last 334 days (1 Jan 2026 – 30 Nov 2026)" in text
    assert "• Digital skills: 412 people (56%)" in text
    assert "• Online selling: <5 people" in text
    assert "• No district given:" in text
    assert "⚠️ Nothing offered yet: English and Malay, Household finance" in text
    assert "“<5” means fewer than 5 people" in text


def test_hidden_participation_and_ratings_show_the_marker(en: Namer, summary: Summary) -> None:
    text = "\n".join(_shown(summary_messages(summary, en)))
    january = next(line for line in text.splitlines() if line.startswith("• Jan 2026: library"))
    assert january.endswith("rating <5 (<5 ratings)")  # feedback_by_month[0] is hidden
    assert "Total: " in text and "rating 4.3 (230 ratings)" in text


def test_a_long_summary_is_split_into_messages_that_each_fit(th: Namer) -> None:
    many = replace(
        sample_summary(11),
        themes=tuple(Theme(f"คำที่{n:03d}ยาวพอสมควรสำหรับการทดสอบ", 5 + n, 6 + n) for n in range(400)),
    )
    messages = summary_messages(many, th)
    assert len(messages) >= 4
    assert all(len(m) <= MESSAGE_LIMIT for m in messages)
    shown = _shown(messages)  # every message is valid HTML on its own
    joined = "\n".join(shown)
    assert all(f"คำที่{n:03d}" in joined for n in range(400))
    continued = [m for m in shown if m.startswith("คำที่พบบ่อยในข้อความ")]
    assert len(continued) >= 2  # the split section repeats its title


def test_a_tiny_limit_still_gives_valid_messages(en: Namer, summary: Summary) -> None:
    messages = summary_messages(summary, en, limit=300)
    assert all(len(m) <= 300 for m in messages)
    _shown(messages)


def test_an_empty_period(th: Namer) -> None:
    text = "\n".join(_shown(summary_messages(empty_summary(), th)))
    assert text.count("ยังไม่มีข้อมูลในช่วงเวลานี้") == 2  # no topics, nothing offered
    assert "ผู้ตอบแบบสำรวจ: <5" in text


def test_markdown_says_the_same(en: Namer, summary: Summary) -> None:
    markdown = summary_markdown(summary, en)
    assert markdown.startswith("# 📊 Learning-needs summary\n")
    assert "\n## Needs by topic\n" in markdown
    assert "- **Digital skills**: 412 people (56%)" in markdown
    assert "- **Online selling**: <5 people" in markdown
    assert "  Modern learning technologies · SDG 4, 9" in markdown


def test_markdown_escapes_what_markdown_would_read_as_markup(en: Namer) -> None:
    odd = replace(sample_summary(1), themes=(Theme("a*b_[c]", 6, 6),))
    assert "**a\\*b\\_\\[c\\]**" in summary_markdown(odd, en)


def test_no_summary_field_is_shown_as_its_python_repr(th: Namer, summary: Summary) -> None:
    text = "\n".join(summary_messages(summary, th))
    assert "Suppressed" not in text and "None" not in text
    assert isinstance(summary.topics[4].people, Suppressed)
