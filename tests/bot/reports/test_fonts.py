"""The shipped Thai font: present with its licence, resolved by matplotlib for every text of
every chart, with a glyph for every character; matplotlib's caches stay out of the home."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

from bot.reports.chart import topics_figure, trend_figure
from bot.reports.fonts import BOLD, FONT_FAMILY, LICENCE, REGULAR, prepare_matplotlib
from bot.reports.labels import Namer
from storage.summary import Summary

ROOT = Path(__file__).resolve().parents[3]
THAI = "ความต้องการเรียนรู้ตามหัวข้อ ผู้สูงอายุ ภาษามลายู 30 พ.ย. 2569 น้ำ ปั๊ม ฤๅษี"


def test_regular_and_bold_ship_with_the_ofl_licence() -> None:
    assert REGULAR.is_file() and BOLD.is_file()
    licence = LICENCE.read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Sarabun Project Authors" in licence


def test_the_font_files_are_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot"]
    assert "data/fonts/*.ttf" in patterns and "data/fonts/*.txt" in patterns


def test_matplotlib_resolves_the_shipped_files() -> None:
    prepare_matplotlib()
    regular = findfont(FontProperties(family=FONT_FAMILY), fallback_to_default=False)
    bold = findfont(FontProperties(family=FONT_FAMILY, weight="bold"), fallback_to_default=False)
    assert Path(regular) == REGULAR
    assert Path(bold) == BOLD


@pytest.mark.parametrize("path", [REGULAR, BOLD], ids=["regular", "bold"])
def test_every_thai_character_has_a_glyph(path: Path) -> None:
    font = FT2Font(str(path))
    missing = [ch for ch in THAI if not ch.isspace() and font.get_char_index(ord(ch)) == 0]
    assert missing == []


def _texts(figure_texts: list[Text]) -> list[Text]:
    return [text for text in figure_texts if text.get_text().strip()]


@pytest.mark.parametrize("language", ["th", "en"])
@pytest.mark.parametrize("make", [topics_figure, trend_figure], ids=["topics", "trend"])
def test_every_text_of_the_charts_is_drawn_in_sarabun_with_real_glyphs(
    make: object, language: str, th: Namer, en: Namer, summary: Summary
) -> None:
    namer = th if language == "th" else en
    figure = make(summary, namer)  # type: ignore[operator]
    figure.draw_without_rendering()  # tick labels exist only once drawn
    texts = _texts(figure.findobj(Text))
    assert len(texts) > 10
    fonts = {path: FT2Font(str(path)) for path in (REGULAR, BOLD)}
    thai_seen = False
    for text in texts:
        path = Path(findfont(text.get_fontproperties(), fallback_to_default=False))
        assert path in fonts, (text.get_text(), path)
        missing = [
            ch
            for ch in text.get_text()
            if not ch.isspace() and fonts[path].get_char_index(ord(ch)) == 0
        ]
        assert missing == [], text.get_text()
        thai_seen = thai_seen or any("\u0e00" <= ch <= "\u0e7f" for ch in text.get_text())
    assert thai_seen == (language == "th")


def test_matplotlib_keeps_its_cache_out_of_the_home(tmp_path: Path) -> None:
    """A fresh interpreter, as on a new machine: nothing is written under $HOME."""
    home, temp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MPL", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(temp), PYTHONPATH=str(ROOT))
    script = (
        "import io\n"
        "from bot.reports.fonts import matplotlib_cache_dir, prepare_matplotlib\n"
        "prepare_matplotlib()\n"
        "import matplotlib\n"
        "from matplotlib.figure import Figure\n"
        "figure = Figure()\n"
        "figure.text(0.1, 0.5, 'ภาษาไทย')\n"
        "figure.savefig(io.BytesIO(), format='png')\n"
        "print(matplotlib.get_cachedir())\n"
        "print(matplotlib.get_backend())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    cache, backend = done.stdout.split()
    assert Path(cache).is_relative_to(temp)
    assert backend.lower() == "agg"
    assert list(home.iterdir()) == []
    assert "findfont" not in done.stderr  # no "font family not found" warning
