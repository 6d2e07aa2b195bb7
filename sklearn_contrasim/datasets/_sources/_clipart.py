"""Captioned drawings from the Open Clip Art Library (Debian ``openclipart-png``/``-svg``).

Each drawing ships as a PNG (``/usr/share/openclipart/png/<category>/.../<name>.png``)
and as the SVG it was rendered from (same path under ``svg/``, ending ``.svg``); the
caption is the SVG's Dublin Core title, followed by its description when that says
something more.
"""

import re
import struct
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

import pandas as pd
from PIL import Image

from .._home import require_path

CLIPART_ROOT = Path("/usr/share/openclipart")
WORD_LIST = Path("/usr/share/dict/american-english")

# Icon themes, geometric shapes, gradients/patterns, buttons and logos: their titles name
# a collection or an abstract shape, not what the picture shows.
EXCLUDED_CATEGORIES = frozenset({"buttons", "computer", "logos", "shapes", "special"})

# PNGs outside these sizes are left out: a few are hundreds of megapixels (seconds and
# gigabytes to decode), a few are tiny icons that become a blur at the models' input size.
MAX_PIXELS = 16_000_000
MIN_LONGEST_SIDE = 48

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DUBLIN_CORE = "{http://purl.org/dc/elements/1.1/}"
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_NOT_PROSE = re.compile(r"https?:|www\.|@|\.com\b|HASH\(", re.IGNORECASE)


def _svg_title_and_description(svg_path):
    """Title and description of the drawing's ``cc:Work`` metadata (``""`` when absent)."""
    title = description = ""
    for _, element in ElementTree.iterparse(svg_path, events=("end",)):
        # The first dc:title/dc:description belong to the work itself; later ones name
        # its publisher, creator and rights holder.
        if element.tag == _DUBLIN_CORE + "title" and not title:
            title = element.text or ""
        elif element.tag == _DUBLIN_CORE + "description" and not description:
            description = element.text or ""
        elif element.tag.endswith("}Work"):
            break
    return title, description


def _png_size(png_path):
    """Width and height from the PNG header, without decoding the image."""
    with open(png_path, "rb") as handle:
        header = handle.read(24)
    if header[:8] != _PNG_SIGNATURE:
        raise ValueError(f"{png_path} is not a PNG file.")
    return struct.unpack(">II", header[16:24])


def _clean(text):
    """Drop an author prefix, underscores and numbering glued to words; collapse spaces."""
    text = re.sub(r"^\s*clip\s?art by [^-]*-\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"(?<=[A-Za-z])\d+\b", "", text.replace("_", " "))
    return " ".join(text.split())


def _is_english(text, english_words):
    """Whether ``text`` is prose whose every word is in the English word list."""
    words = _WORD.findall(text)
    return (
        bool(words)
        and not _NOT_PROSE.search(text)
        and all(word.lower() in english_words for word in words)
    )


def _comparable(text):
    return " ".join(_WORD.findall(text.lower()))


def list_clipart_pairs(root=None, *, max_title_uses=3, max_description_words=30):
    """The captioned drawings usable as image-caption pairs.

    Drawings are kept when their category is not in ``EXCLUDED_CATEGORIES``, their
    PNG has at most ``MAX_PIXELS`` pixels and a longest side of at least
    ``MIN_LONGEST_SIDE`` pixels, and their title is English (every word in Debian
    ``wamerican``'s word list) and not generic (used by at most ``max_title_uses``
    drawings: collection names such as "card" or "AIGA symbol signs" label
    hundreds). The description is appended when it is English, not a URL or e-mail,
    at most ``max_description_words`` long and not already contained in the title.
    Of several drawings with the same caption, only the first (by path) is kept.

    Parameters
    ----------
    root : path-like, default=None
        Folder holding ``png/`` and ``svg/``; ``CLIPART_ROOT``
        (``/usr/share/openclipart``) when None.
    max_title_uses : int, default=3
        A title shared by more drawings is generic and all of them are dropped.
    max_description_words : int, default=30
        Longer descriptions are not appended.

    Returns
    -------
    pairs : pandas.DataFrame
        Columns ``image_id`` (path below ``png/`` without extension), ``caption`` and
        ``category``, one row per drawing, sorted by ``image_id``.
    """
    root = Path(CLIPART_ROOT if root is None else root)
    png_root = require_path(root / "png", debian_package="openclipart-png")
    svg_root = require_path(root / "svg", debian_package="openclipart-svg")
    english_words = {
        line.strip().lower()
        for line in require_path(WORD_LIST, debian_package="wamerican").read_text().splitlines()
    }
    drawings = []
    for png_path in sorted(png_root.rglob("*.png")):
        image_id = png_path.relative_to(png_root).with_suffix("").as_posix()
        category = image_id.split("/", 1)[0]
        svg_path = svg_root / f"{image_id}.svg"
        if category in EXCLUDED_CATEGORIES or not svg_path.exists():
            continue
        width, height = _png_size(png_path)
        if width * height > MAX_PIXELS or max(width, height) < MIN_LONGEST_SIDE:
            continue
        title, description = map(_clean, _svg_title_and_description(svg_path))
        drawings.append((image_id, category, title, description))

    title_uses = Counter(_comparable(title) for _, _, title, _ in drawings)
    rows, seen_captions = [], set()
    for image_id, category, title, description in drawings:
        if (
            title_uses[_comparable(title)] > max_title_uses
            or not re.search("[A-Za-z]{3}", title)
            or not _is_english(title, english_words)
        ):
            continue
        caption = title
        if (
            description
            and f" {_comparable(description)} " not in f" {_comparable(title)} "
            and len(description.split()) <= max_description_words
            and _is_english(description, english_words)
        ):
            caption = f"{title.rstrip('.')}. {description}"
        if _comparable(caption) in seen_captions:
            continue
        seen_captions.add(_comparable(caption))
        rows.append((image_id, caption, category))
    return pd.DataFrame(rows, columns=["image_id", "caption", "category"])


def clipart_png_path(image_id, root=None):
    """The PNG file of the drawing ``image_id`` (as listed by :func:`list_clipart_pairs`)."""
    return Path(CLIPART_ROOT if root is None else root) / "png" / f"{image_id}.png"


def open_clipart_image(image_id, root=None):
    """The drawing ``image_id`` (as listed by :func:`list_clipart_pairs`) as an RGBA image.

    Transparent margins are cropped away: many drawings sit small on a page-sized canvas.
    """
    path = require_path(clipart_png_path(image_id, root), debian_package="openclipart-png")
    with Image.open(path) as image:
        image = image.convert("RGBA")
    content = image.getchannel("A").getbbox()
    return image.crop(content) if content else image
