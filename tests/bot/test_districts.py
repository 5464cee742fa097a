"""The districts file: Yala's eight by default, and clear errors for a broken file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.districts import DistrictsFileError, load_districts
from bot.settings import DEFAULT_DISTRICTS_FILE


def test_the_shipped_file_lists_yalas_eight_districts() -> None:
    districts = load_districts(DEFAULT_DISTRICTS_FILE)
    assert [d.th for d in districts] == [
        "เมืองยะลา", "เบตง", "บันนังสตา", "ธารโต", "ยะหา", "รามัน", "กาบัง", "กรงปินัง",
    ]  # fmt: skip
    assert districts[1].name("en") == "Betong" and districts[1].name("th") == "เบตง"


@pytest.mark.parametrize(
    "content",
    [
        "districts: []",
        "nothing: here",
        "districts:\n  - {code: a, th: ก}",
        "districts:\n  - {code: a, th: ก, en: A}\n  - {code: a, th: ข, en: B}",
        "districts: [",
    ],
)
def test_a_broken_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DistrictsFileError):
        load_districts(path)
