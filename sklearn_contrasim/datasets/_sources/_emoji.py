"""Emoji pictures (Debian ``fonts-noto-color-emoji``) captioned by their Unicode names."""

import unicodedata
from functools import lru_cache
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from .._home import require_module, require_path

EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
# The colour bitmaps of Noto Color Emoji exist at this one size only.
EMOJI_FONT_SIZE = 109
# Letters that combine in pairs into flags; alone they are not pictures of anything.
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)


def _font_path(font_path):
    font_path = EMOJI_FONT if font_path is None else font_path
    return require_path(font_path, debian_package="fonts-noto-color-emoji")


@lru_cache(maxsize=2)
def _emoji_font(font_path):
    return ImageFont.truetype(str(font_path), EMOJI_FONT_SIZE)


def list_emoji_pairs(font_path=None):
    """The single-code-point emoji of the font, captioned by their Unicode names.

    Kept are the code points the font maps that are "other symbols" (Unicode category
    ``So``) with a name in Python's Unicode database, except the regional indicator
    letters. Digits, ``#``, ``*``, skin-tone modifiers and joiners (other categories)
    are left out.

    Parameters
    ----------
    font_path : path-like, default=None
        The colour emoji font; ``EMOJI_FONT``
        (``/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf``) when None.

    Returns
    -------
    pairs : pandas.DataFrame
        Columns ``image_id`` (the code point, e.g. ``"U+1F600"``) and ``caption``
        (its lower-cased Unicode name, e.g. ``"grinning face"``), sorted by code point.
    """
    ttlib = require_module("fontTools.ttLib", pip_package="fonttools")
    font_path = _font_path(font_path)
    code_points = sorted(ttlib.TTFont(str(font_path), lazy=True).getBestCmap())
    rows = []
    for code_point in code_points:
        character = chr(code_point)
        name = unicodedata.name(character, "")
        is_symbol = unicodedata.category(character) == "So"
        if name and is_symbol and code_point not in _REGIONAL_INDICATORS:
            rows.append((f"U+{code_point:04X}", name.lower()))
    return pd.DataFrame(rows, columns=["image_id", "caption"])


def render_emoji(image_id, font_path=None):
    """The emoji ``image_id`` (``"U+XXXX"``) drawn in colour on a transparent RGBA image."""
    font = _emoji_font(_font_path(font_path))
    character = chr(int(image_id.removeprefix("U+"), 16))
    left, top, right, bottom = font.getbbox(character)
    image = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((-left, -top), character, font=font, embedded_color=True)
    return image
