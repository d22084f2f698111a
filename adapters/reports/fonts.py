"""The CJK font that PDFs and charts embed, found once on this machine."""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "no CJK TrueType font found for PDF and chart rendering; install one, e.g. "
    "`apt-get install fonts-wqy-microhei` (Debian/Ubuntu; fonts-noto-cjk alone is not "
    "enough: reportlab cannot embed its CFF outlines)"
)

# TrueType outlines only: reportlab cannot embed the CFF outlines of Noto Sans CJK's .ttc.
KNOWN_FONTS = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)

PDF_FONT_NAME = "LastmileCJK"


@dataclass(frozen=True)
class CjkFont:
    """A font file (and face, for .ttc collections) that has Chinese glyphs."""

    path: Path
    index: int


def _fontconfig(*args: str) -> list[tuple[str, int]]:
    """File and face index of the fonts fontconfig proposes (none when it is not installed)."""
    program = shutil.which(args[0])
    if program is None:
        return []
    try:
        out = subprocess.run(
            [program, *args[1:]], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.splitlines():
        path, _, index = line.partition("\t")
        if path:
            found.append((path, int(index) if index.strip().isdigit() else 0))
    return found


def _candidates() -> list[tuple[str, int]]:
    return [
        *_fontconfig("fc-match", "-f", "%{file}\t%{index}\n", "sans-serif:lang=zh-cn"),
        *_fontconfig("fc-list", "-f", "%{file}\t%{index}\n", ":lang=zh-cn"),
        *KNOWN_FONTS,
    ]


def _embeddable(path: str, index: int) -> bool:
    """True when reportlab can embed this face and it draws Chinese (中)."""
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    if not Path(path).is_file():
        return False
    try:
        font = TTFont(PDF_FONT_NAME, path, subfontIndex=index)
    except (TTFError, OSError, ValueError):
        return False
    return ord("中") in font.face.charToGlyph


@functools.cache
def cjk_font() -> CjkFont:
    """The first usable CJK font: fontconfig's choice, then every zh font, then known paths."""
    for path, index in _candidates():
        if _embeddable(path, index):
            return CjkFont(Path(path), index)
    raise RuntimeError(INSTALL_HINT)


@functools.cache
def pdf_font_name() -> str:
    """Register the CJK font with reportlab (once) and return the name to draw with."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = cjk_font()
    pdfmetrics.registerFont(TTFont(PDF_FONT_NAME, str(font.path), subfontIndex=font.index))
    return PDF_FONT_NAME


@functools.cache
def chart_font_family() -> str:
    """Add the CJK font to matplotlib (once) and return its family name."""
    from matplotlib import font_manager, ft2font

    font = cjk_font()
    font_manager.fontManager.addfont(str(font.path))
    return str(ft2font.FT2Font(str(font.path), face_index=font.index).family_name)
