"""The files: a CSV that round-trips Thai (BOM) and an XLSX with one sheet per breakdown, an
about sheet with the period, filters and rule, and "<5" wherever a cell is hidden."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from openpyxl import load_workbook

from bot.reports.labels import Namer
from bot.reports.tables import display_width, summary_csv, summary_grids, summary_xlsx
from storage.summary import Cell, Summary, Suppressed, Table
from tests.bot.reports.sample import empty_summary

THAI_SHEETS = [
    "เกี่ยวกับรายงาน",
    "ภาพรวม",
    "หัวข้อ UNESCO และ SDG",
    "ความต้องการตามหัวข้อ",
    "ความต้องการตามช่วงอายุ",
    "ความต้องการตามอำเภอ",
    "ความต้องการตามภาษาของคำตอบ",
    "ความต้องการรายเดือน",
    "การยืมหนังสือมนุษย์",
    "การตอบรับสภากาแฟ",
    "ผู้มาร่วมสภากาแฟ",
    "คำที่พบบ่อย",
    "ความต้องการเทียบสิ่งที่จัดให้",
    "กิจกรรมที่จัดรายเดือน",
    "คะแนนความพึงพอใจรายเดือน",
    "คะแนนความพึงพอใจตามอำเภอ",
]


def _hidden_in(table: Table) -> int:
    values: list[Cell | None] = [cell for row in table.cells for cell in row]
    values += list(table.row_totals or ()) + list(table.column_totals or ()) + [table.total]
    return sum(isinstance(value, Suppressed) for value in values)


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_csv_starts_with_a_bom_and_round_trips_thai(th: Namer, summary: Summary) -> None:
    data = summary_csv(summary, th)
    assert data.startswith(b"\xef\xbb\xbf")
    header, *rows = _rows(data)
    assert header == ["breakdown_key", "ตาราง", "row_key", "แถว", "column_key", "คอลัมน์",
                      "หน่วย", "ค่า"]  # fmt: skip
    assert all(len(row) == 8 for row in rows)
    district = {(r[2], r[4]): r for r in rows if r[0] == "needs_by_district"}
    assert district[("digital", "betong")][3] == "ทักษะดิจิทัล"
    assert district[("digital", "betong")][5] == "เบตง"
    assert district[("digital", "_none")][5] == "ไม่ระบุอำเภอ"
    assert ["needs_by_topic", "ความต้องการตามหัวข้อ", "digital", "ทักษะดิจิทัล", "people",
            "จำนวนคน", "คน", "412"] in rows  # fmt: skip
    assert ["needs_by_topic", "ความต้องการตามหัวข้อ", "business", "ค้าขายออนไลน์", "people",
            "จำนวนคน", "คน", "<5"] in rows  # fmt: skip


def test_the_csv_holds_every_breakdown_with_its_hidden_cells(th: Namer, summary: Summary) -> None:
    _, *rows = _rows(summary_csv(summary, th))
    keys = {row[0] for row in rows}
    assert {t.key for t in summary.tables()} | {"about", "overview", "topics", "themes"} <= keys
    hidden = Counter(row[0] for row in rows if row[7] == "<5")
    for table in summary.tables():
        assert hidden[table.key] == _hidden_in(table), table.key
    totals = {(r[2], r[4]): r[7] for r in rows if r[0] == "needs_by_age_band"}
    assert totals[("_total", "_total")] == str(summary.needs_by_age_band.total)


def test_the_csv_states_the_rule(en: Namer, summary: Summary) -> None:
    rows = _rows(summary_csv(summary, en))
    about = {row[2]: row[7] for row in rows if row[0] == "about"}
    assert about["period_key"] == summary.period.text
    assert about["rule"].startswith("“<5” means fewer than 5 people")


def test_the_workbook_has_the_expected_sheets(th: Namer, summary: Summary) -> None:
    workbook = load_workbook(io.BytesIO(summary_xlsx(summary, th)))
    assert workbook.sheetnames == THAI_SHEETS
    assert all(len(name) <= 31 for name in workbook.sheetnames)


def test_the_english_workbook_has_distinct_short_sheet_names(en: Namer, summary: Summary) -> None:
    workbook = load_workbook(io.BytesIO(summary_xlsx(summary, en)))
    names = workbook.sheetnames
    assert names[0] == "About" and "Needs by district" in names
    assert len(set(names)) == len(names) == len(THAI_SHEETS)


def test_the_about_sheet_states_period_filters_and_rule(th: Namer, summary: Summary) -> None:
    about = load_workbook(io.BytesIO(summary_xlsx(summary, th)))["เกี่ยวกับรายงาน"]
    values = {row[0]: row[1] for row in about.iter_rows(min_row=2, values_only=True)}
    assert values["ช่วงเวลา"] == "334 วันล่าสุด (1 ม.ค. 2569 – 30 พ.ย. 2569)"
    assert "เฉพาะคำตอบของผู้ที่ให้ความยินยอม" in str(values["ตัวกรอง"])
    assert str(values["การปกปิดข้อมูล"]).startswith("“<5” หมายถึงน้อยกว่า 5 คน")
    assert "ช่องที่เล็กที่สุดถัดไปจะถูกปกปิดด้วย" in str(values["การปกปิดเพิ่มเติม"])
    assert values["เกณฑ์การปกปิด (คน)"] == "5"


def test_a_breakdown_sheet_matches_the_summary_cell_by_cell(th: Namer, summary: Summary) -> None:
    sheet = load_workbook(io.BytesIO(summary_xlsx(summary, th)))["ความต้องการตามอำเภอ"]
    table = summary.needs_by_district
    header = [c.value for c in sheet[1]]
    assert header == ["หัวข้อ", "เมืองยะลา", "เบตง", "บันนังสตา", "ธารโต", "ยะหา",
                      "ไม่ระบุอำเภอ", "รวม"]  # fmt: skip
    for i, row in enumerate(table.cells):
        values = [c.value for c in sheet[i + 2]]
        expected = ["<5" if isinstance(v, Suppressed) else v for v in row]
        total = table.row_totals[i] if table.row_totals else None
        assert values[1:] == [*expected, "<5" if isinstance(total, Suppressed) else total]
    last = [c.value for c in sheet[len(table.rows) + 2]]
    assert last[0] == "รวม" and last[-1] == table.total
    assert sheet.freeze_panes == "B2"
    assert sheet["A1"].font.bold and sheet["B1"].fill.fgColor.rgb.endswith("1F4E79")
    assert sheet.column_dimensions["A"].width > 10


def test_numbers_are_numbers_and_shares_are_percent(en: Namer, summary: Summary) -> None:
    topics = load_workbook(io.BytesIO(summary_xlsx(summary, en)))["Topics, UNESCO and SDGs"]
    digital = next(topics.iter_rows(min_row=2, max_row=2))
    assert digital[0].value == "Digital skills"
    assert digital[1].value == 412 and digital[1].number_format == "#,##0"
    assert digital[2].value == pytest.approx(412 / 731) and digital[2].number_format == "0.0%"
    assert digital[3].value == "Modern learning technologies" and digital[4].value == "4, 9"


def test_an_empty_period_still_makes_both_files(th: Namer) -> None:
    nothing = empty_summary()
    assert len(_rows(summary_csv(nothing, th))) > 10
    workbook = load_workbook(io.BytesIO(summary_xlsx(nothing, th)))
    assert workbook.sheetnames == THAI_SHEETS


def test_every_grid_row_has_one_value_per_column(en: Namer, summary: Summary) -> None:
    for grid in summary_grids(summary, en):
        assert all(len(row.values) == len(grid.columns) for row in grid.rows), grid.key


def test_thai_marks_take_no_width() -> None:
    assert display_width("ผู้สูงอายุ") == 6
    assert display_width("abc") == 3
