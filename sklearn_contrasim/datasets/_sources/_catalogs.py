"""Parallel and English sentences from the gettext catalogs installed with Debian packages.

Every translated Debian package ships compiled catalogs
``/usr/share/locale/<lang>/LC_MESSAGES/<domain>.mo``: each entry maps an English
source message (msgid) to its human translation (msgstr). Only the text domains pinned
in :data:`CATALOG_MANIFEST` are read, so that other installed packages change nothing.
Kept as sentences are single-line messages without plural forms, option lines, format
placeholders, markup or keyboard accelerators.
"""

import re
import struct
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

from ._catalog_manifest import CATALOG_MANIFEST

LOCALE_DIR = Path("/usr/share/locale")

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


def _pinned_catalogs():
    """Every installed catalog of a pinned text domain, sorted by language then file name.

    Each comes as ``(path, modification time, size)``, so that the caches keyed by them
    follow a changed catalog. Raises :class:`MissingDataSourceError` naming the packages
    of the pinned domains that have no catalog in any language (not installed).
    """
    from .._home import MissingDataSourceError

    domains = {domain for _, domain in CATALOG_MANIFEST}
    paths = sorted(
        (path for path in LOCALE_DIR.glob("*/LC_MESSAGES/*.mo") if path.stem in domains),
        key=lambda path: (path.parts[-3], path.name),
    )
    installed = {path.stem for path in paths}
    missing = sorted({package for package, domain in CATALOG_MANIFEST if domain not in installed})
    if missing:
        raise MissingDataSourceError(
            f"The gettext catalogs of the pinned Debian package(s) {', '.join(missing)} are "
            f"missing from {LOCALE_DIR}: run `apt-get install {' '.join(missing)}` (and make "
            "sure the image does not strip /usr/share/locale)."
        )
    stats = [path.stat() for path in paths]
    return tuple((path, stat.st_mtime_ns, stat.st_size) for path, stat in zip(paths, stats))


def _language_catalogs(catalogs, language):
    """The catalogs of ``language``; raises :class:`MissingDataSourceError` when none."""
    from .._home import MissingDataSourceError

    found = tuple(catalog for catalog in catalogs if catalog[0].parts[-3] == language)
    if not found:
        raise MissingDataSourceError(
            f"No pinned gettext catalog translates into {language!r}: no text domain of "
            f"CATALOG_MANIFEST has a catalog in {LOCALE_DIR / language / 'LC_MESSAGES'}."
        )
    return found


@lru_cache(maxsize=16)
def _translations(catalogs):
    """Map each clean English msgid to its most frequent clean translation in ``catalogs``."""
    votes = defaultdict(Counter)
    for path, _, _ in catalogs:
        for raw_msgid, raw_msgstr, charset in _mo_entries(path):
            msgid, msgstr = _decode(raw_msgid, "utf-8"), _decode(raw_msgstr, charset)
            if msgid and msgstr and msgstr != msgid and _is_clean(msgid) and _is_clean(msgstr):
                votes[msgid][msgstr] += 1
    # most_common keeps first-seen order on ties, and files are read in sorted order.
    return {msgid: counter.most_common(1)[0][0] for msgid, counter in votes.items()}


def sentence_key(text):
    """``text`` with its case and runs of white space folded: two sentences with the same
    key count as one (a repeat).

    Examples
    --------
    >>> from sklearn_contrasim.datasets._sources._catalogs import sentence_key
    >>> sentence_key("Open  the File") == sentence_key("open the file")
    True
    """
    return _SPACES.sub(" ", text).casefold()


def _check_word_range(min_words, max_words):
    for name, value in (("min_words", min_words), ("max_words", max_words)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if min_words > max_words:
        raise ValueError(f"min_words={min_words} is larger than max_words={max_words}.")


def load_parallel_sentences(languages, *, min_words=6, max_words=30):
    """Aligned human translations of English sentences from the pinned gettext catalogs.

    Only the catalogs of the text domains pinned in ``CATALOG_MANIFEST`` (the Debian
    packages that ``.ci/install`` installs) are read. A sentence is kept when every
    requested language translates it. Kept messages are single-line, have ``min_words``
    to ``max_words`` English words, and contain no plural form, command-line option,
    format placeholder (``%s``, ``{name}``), markup (``<b>``), keyboard accelerator
    (``_``, ``&``) or column-aligned help text, in English or in any translation. A
    translation equal to its English source is not counted. Rows whose text repeats
    (ignoring case and spacing) in any language are dropped, keeping the first, so that
    every row has a unique positive.

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
        When a pinned package is not installed, or a requested language has no pinned
        catalog.

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
    catalogs = _pinned_catalogs()
    tables = [_translations(_language_catalogs(catalogs, language)) for language in others]
    common = set.intersection(*(set(table) for table in tables))
    english = sorted(text for text in common if min_words <= _n_words(text) <= max_words)
    rows, seen = [], [set() for _ in range(len(others) + 1)]
    for text in english:
        row = [text] + [table[text] for table in tables]
        keys = [sentence_key(cell) for cell in row]
        if any(key in used for key, used in zip(keys, seen)):
            continue
        for key, used in zip(keys, seen):
            used.add(key)
        rows.append(row)
    return pd.DataFrame(rows, columns=["en", *others])


def load_english_sentences(*, min_words=5, max_words=40):
    """Distinct English sentences: the clean msgids of the pinned gettext catalogs.

    The msgids are read from the pinned catalogs of all locales (each translates part of
    the same English sources), with the same cleaning as :func:`load_parallel_sentences`:
    :func:`load_monolingual_sentences` of ``"en"``, with 5 to 40 words by default.

    Examples
    --------
    >>> from sklearn_contrasim.datasets._sources import load_english_sentences
    >>> sentences = load_english_sentences(min_words=5, max_words=6)
    >>> all(5 <= len(s.split()) <= 6 for s in sentences)
    True
    """
    return load_monolingual_sentences("en", min_words=min_words, max_words=max_words)


@lru_cache(maxsize=1)
def _english_msgids(catalogs):
    raw_msgids = set()
    for path, _, _ in catalogs:
        raw_msgids.update(_mo_msgids(path))
    # The NUL test drops the header (empty) and plural entries.
    msgids = {_decode(raw, "utf-8") for raw in raw_msgids if raw and b"\x00" not in raw}
    msgids = {msgid for msgid in msgids if msgid and _is_clean(msgid)}
    return tuple(sorted(msgids))


def load_monolingual_sentences(language, *, min_words=3, max_words=40):
    """Distinct sentences of one language from the pinned gettext catalogs.

    ``"en"``: the clean msgids (as :func:`load_english_sentences`); any other language:
    the clean translations of its catalogs (as :func:`load_parallel_sentences`), whatever
    the other languages translate. Monolingual text, as a masked language model trains on.

    Parameters
    ----------
    language : str
        ``"en"`` or a locale folder name of ``/usr/share/locale``.
    min_words, max_words : int, default=3, 40
        Inclusive range of the number of whitespace-separated words.

    Returns
    -------
    sentences : list of str
        Sorted distinct sentences.

    Raises
    ------
    MissingDataSourceError
        When a pinned package is not installed, or ``language`` has no pinned catalog.

    Examples
    --------
    >>> from sklearn_contrasim.datasets._sources._catalogs import load_monolingual_sentences
    >>> sentences = load_monolingual_sentences("de", min_words=3, max_words=4)
    >>> all(3 <= len(s.split()) <= 4 for s in sentences)
    True
    """
    _check_word_range(min_words, max_words)
    catalogs = _pinned_catalogs()
    if language == "en":
        sentences = _english_msgids(catalogs)
    else:
        sentences = sorted(set(_translations(_language_catalogs(catalogs, language)).values()))
    return [text for text in sentences if min_words <= _n_words(text) <= max_words]
