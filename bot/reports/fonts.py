"""The shipped Thai-capable font (Sarabun, SIL OFL 1.1) and a matplotlib set up to use it.

matplotlib is imported only after `prepare_matplotlib()`: before the first import its config
and cache directory (MPLCONFIGDIR) is pointed at a folder of ours, so a service account never
writes `~/.config/matplotlib` or `~/.cache/matplotlib`, and the Agg backend is chosen, so no
display is needed. The Sarabun files are registered with the font manager by path and made the
family of every text, so Thai never falls back to a font without Thai glyphs (boxes).
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
FONT_FAMILY = "Sarabun"
REGULAR = FONT_DIR / "Sarabun-Regular.ttf"
BOLD = FONT_DIR / "Sarabun-Bold.ttf"
LICENCE = FONT_DIR / "OFL.txt"
CACHE_ENV = "MPLCONFIGDIR"

# matplotlib's font manager and text cache are process-wide: set up once, draw one at a time.
RENDER_LOCK = threading.RLock()
_ready = False


def matplotlib_cache_dir() -> Path:
    """Where matplotlib keeps its font cache: $MPLCONFIGDIR when the operator set it, else a
    private folder in the system's temporary directory (never the user's home)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"learncity-matplotlib-{uid}"


def prepare_matplotlib() -> None:
    """Point matplotlib's caches at our folder, choose Agg and register Sarabun (once)."""
    global _ready
    with RENDER_LOCK:
        if _ready:
            return
        directory = matplotlib_cache_dir()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ[CACHE_ENV] = str(directory)
        import matplotlib
        from matplotlib import font_manager

        matplotlib.use("Agg")
        for path in (REGULAR, BOLD):
            font_manager.fontManager.addfont(str(path))
        matplotlib.rcParams["font.family"] = FONT_FAMILY
        _ready = True
