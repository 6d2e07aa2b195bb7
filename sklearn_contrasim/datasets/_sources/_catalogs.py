"""Parallel and English sentences from the gettext catalogs installed with Debian packages.

Every translated Debian package ships compiled catalogs
``/usr/share/locale/<lang>/LC_MESSAGES/<domain>.mo``: each entry maps an English
source message (msgid) to its human translation (msgstr). Kept as sentences are
single-line messages without plural forms, option lines, format placeholders,
markup or keyboard accelerators.
"""

import re
import struct
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path("/usr/share/locale")
# Several Debian packages ship catalogs; these are some of the larger ones, named in errors.
CATALOG_PACKAGES = (
    "coreutils, dpkg, git, libglib2.0-data, libgtk2.0-common, libc-l10n, wget, tar, apt"
)

_MO_MAGIC = {b"\xde\x12\x04\x95": "<", b"\x95\x04\x12\xde": ">"}
# Format placeholders (%s, %1$d, %(name)s, {name}), markup (<b>), accelerators (_File, &Open),
# escapes, shell variables, quoting with backquotes and column-aligned help text.
_UNWANTED = re.compile(r"%|\{|\}|<|>|_|&|\\|\$|`|\t|\s{2,}|\x04")
_OPTION_LINE = re.compile(r"(^|\s)--?[A-Za-z]")
_SPACES = re.compile(r"\s+")


def _mo_tables(path):
    """Return the bytes of a compiled gettext catalog and its flat (length, offset) tables."""
    data = Path(path).read_bytes()
    order = _MO_MAGIC.get(data[:4])
    if order is None or len(data) < 28:
        return data, (), ()
    _, count, ids_at, strs_at = struct.unpack(order + "4I", data[4:20])
    ids = struct.unpack_from(f"{order}{2 * count}I", data, ids_at)
    strs = struct.unpack_from(f"{order}{2 * count}I", data, strs_at)
    return data, ids, strs


def _mo_msgids(path):
    """The raw msgids of a catalog (header, plural and context entries included)."""
    data, ids, _ = _mo_tables(path)
    return [data[start : start + length] for length, start in zip(ids[::2], ids[1::2])]


def _mo_entries(path):
    """Yield the raw ``(msgid, msgstr, charset)`` entries of a compiled gettext catalog.

    The header and plural entries (a NUL-separated plural form) are skipped; a context
    prefix (``msgctxt\\x04msgid``) is kept so that callers can drop those entries.
    """
    data, ids, strs = _mo_tables(path)
    charset = "utf-8"
    for id_len, id_at, str_len, str_at in zip(ids[::2], ids[1::2], strs[::2], strs[1::2]):
        msgid = data[id_at : id_at + id_len]
        msgstr = data[str_at : str_at + str_len]
        if not msgid:  # the header, first in the sorted table
            found = re.search(rb"charset=([-\w]+)", msgstr)
            if found:
                charset = found.group(1).decode("ascii")
        elif b"\x00" not in msgid and b"\x00" not in msgstr:
            yield msgid, msgstr, charset


def _decode(raw, charset):
    try:
        return raw.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return None


def _is_clean(text):
    """Whether ``text`` is a one-line plain sentence (no placeholder, markup, option)."""
    return (
        bool(text)
        and "\n" not in text
        and text == text.strip()
        and _UNWANTED.search(text) is None
        and _OPTION_LINE.search(text) is None
    )


def _n_words(text):
    return len(text.split())


def _catalog_files(language):
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    return sorted(folder.glob("*.mo")) if folder.is_dir() else []


@lru_cache(maxsize=16)
def _translations(language):
    """Map each clean English msgid to its most frequent clean translation in ``language``."""
    votes = defaultdict(Counter)
    for path in _catalog_files(language):
        for raw_msgid, raw_msgstr, charset in _mo_entries(path):
            msgid, msgstr = _decode(raw_msgid, "utf-8"), _decode(raw_msgstr, charset)
            if msgid and msgstr and msgstr != msgid and _is_clean(msgid) and _is_clean(msgstr):
                votes[msgid][msgstr] += 1
    # most_common keeps first-seen order on ties, and files are read in sorted order.
    return {msgid: counter.most_common(1)[0][0] for msgid, counter in votes.items()}


def _check_word_range(min_words, max_words):
    for name, value in (("min_words", min_words), ("max_words", max_words)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if min_words > max_words:
        raise ValueError(f"min_words={min_words} is larger than max_words={max_words}.")


def _require_catalogs(language):
    from .._home import MissingDataSourceError

    if not _catalog_files(language):
        raise MissingDataSourceError(
            f"No gettext catalogs found in {LOCALE_DIR / language / 'LC_MESSAGES'}: they ship "
            f"with translated Debian packages ({CATALOG_PACKAGES}); install some of them "
            "(and make sure the image does not strip /usr/share/locale)."
        )


def load_parallel_sentences(languages, *, min_words=6, max_words=30):
    """Aligned human translations of English sentences from the system's gettext catalogs.

    A sentence is kept when every requested language translates it. Kept messages are
    single-line, have ``min_words`` to ``max_words`` English words, and contain no plural
    form, command-line option, format placeholder (``%s``, ``{name}``), markup
    (``<b>``), keyboard accelerator (``_``, ``&``) or column-aligned help text, in
    English or in any translation. A translation equal to its English source is not
    counted. Rows whose text repeats (ignoring case and spacing) in any language are
    dropped, keeping the first, so that every row has a unique positive.

    Parameters
    ----------
    languages : sequence of str
        Locale folder names of ``/usr/share/locale`` (``"de"``, ``"ar"``, ``"pt_BR"``...).
        ``"en"`` (the msgids) is always included as the first column.
    min_words, max_words : int, default=6, 30
        Inclusive range of the number of (whitespace-separated) English words.

    Returns
    -------
    sentences : pandas.DataFrame
        One ``str`` column per language, ``"en"`` first; rows are translations of one
        another, sorted by English text, with a default integer index.

    Raises
    ------
    MissingDataSourceError
        When a requested language has no catalog installed.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import load_parallel_sentences
    >>> table = load_parallel_sentences(["de"], min_words=6, max_words=8)
    >>> list(table.columns)
    ['en', 'de']
    >>> bool(table["en"].str.split().str.len().between(6, 8).all())
    True
    """
    import pandas as pd

    if isinstance(languages, str):
        raise TypeError(
            f"languages must be a sequence of language codes, got the string {languages!r}."
        )
    _check_word_range(min_words, max_words)
    others = list(dict.fromkeys(lang for lang in languages if lang != "en"))
    if not others:
        raise ValueError("languages must contain at least one language other than 'en'.")
    for language in others:
        _require_catalogs(language)
    tables = [_translations(language) for language in others]
    common = set.intersection(*(set(table) for table in tables))
    english = sorted(text for text in common if min_words <= _n_words(text) <= max_words)
    rows, seen = [], [set() for _ in range(len(others) + 1)]
    for text in english:
        row = [text] + [table[text] for table in tables]
        keys = [_SPACES.sub(" ", cell).casefold() for cell in row]
        if any(key in used for key, used in zip(keys, seen)):
            continue
        for key, used in zip(keys, seen):
            used.add(key)
        rows.append(row)
    return pd.DataFrame(rows, columns=["en", *others])


def load_english_sentences(*, min_words=5, max_words=40):
    """Distinct English sentences: the clean msgids of every installed gettext catalog.

    The msgids are read from the catalogs of all locales (each translates part of the
    same English sources), with the same cleaning as
    :func:`load_parallel_sentences`, and returned sorted.

    Parameters
    ----------
    min_words, max_words : int, default=5, 40
        Inclusive range of the number of whitespace-separated words.

    Returns
    -------
    sentences : list of str
        Sorted distinct sentences.

    Raises
    ------
    MissingDataSourceError
        When no catalog is installed.

    Examples
    --------
    >>> from sklearn_contrasim.datasets._sources import load_english_sentences
    >>> sentences = load_english_sentences(min_words=5, max_words=6)
    >>> all(5 <= len(s.split()) <= 6 for s in sentences)
    True
    """
    _check_word_range(min_words, max_words)
    return [text for text in _english_msgids() if min_words <= _n_words(text) <= max_words]


@lru_cache(maxsize=1)
def _english_msgids():
    from .._home import MissingDataSourceError

    files = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.mo"))
    if not files:
        raise MissingDataSourceError(
            f"No gettext catalogs found under {LOCALE_DIR}: they ship with translated "
            f"Debian packages ({CATALOG_PACKAGES}); install some of them."
        )
    raw_msgids = set()
    for path in files:
        raw_msgids.update(_mo_msgids(path))
    # The NUL test drops the header (empty) and plural entries.
    msgids = {_decode(raw, "utf-8") for raw in raw_msgids if raw and b"\x00" not in raw}
    msgids = {msgid for msgid in msgids if msgid and _is_clean(msgid)}
    return tuple(sorted(msgids))
