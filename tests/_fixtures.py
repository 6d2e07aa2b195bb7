"""Shared pieces of the data-set tests: skip markers, tiny settings, fixtures."""

import struct

import pytest

from sklearn_contrasim.datasets._models._e5 import load_e5_model
from sklearn_contrasim.datasets._sources import _catalogs, _fashion_mnist


needs_fashion_mnist = pytest.mark.skipif(
    not _fashion_mnist.FASHION_MNIST_DIR.is_dir(), reason="Debian dataset-fashion-mnist not installed"
)


TINY_MLP = {"n_layers": 3, "width": 32, "epochs": 1, "n_images": 2000}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def e5():
    return load_e5_model()


def write_mo(path, messages, charset="utf-8"):
    """Write a compiled (little-endian) gettext catalog of ``messages``, msgid -> msgstr."""
    header = {"": f"Content-Type: text/plain; charset={charset}\n"}
    entries = sorted({**header, **messages}.items())
    n_entries = len(entries)
    tables, blob = [[], []], b""
    data_at = 28 + 16 * n_entries
    for column, encoding in ((0, "utf-8"), (1, charset)):
        for entry in entries:
            raw = entry[column].encode(encoding)
            tables[column] += [len(raw), data_at + len(blob)]
            blob += raw + b"\0"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        struct.pack("<7I", 0x950412DE, 0, n_entries, 28, 28 + 8 * n_entries, 0, 0)
        + struct.pack(f"<{4 * n_entries}I", *tables[0], *tables[1])
        + blob
    )


# Two pinned fake packages; each English message is translated into German and French.
FAKE_MANIFEST = (("fake-editor", "fakeeditor"), ("fake-utils", "fakeutils"))
FAKE_CATALOGS = {
    "fakeeditor": {
        "The file could not be saved to the disk": {
            "de": "Die Datei konnte nicht auf der Platte gespeichert werden",
            "fr": "Le fichier n'a pas pu être enregistré sur le disque",
        },
        "Close the window without saving the changes": {
            "de": "Das Fenster schließen ohne die Änderungen zu speichern",
            "fr": "Fermer la fenêtre sans enregistrer les modifications",
        },
        "Too short to keep": {"de": "Zu kurz", "fr": "Trop court"},
    },
    "fakeutils": {
        "The archive does not contain any files at all": {
            "de": "Das Archiv enthält überhaupt keine Dateien",
            "fr": "L'archive ne contient aucun fichier",
        },
        "Remove the temporary files when the program exits": {
            "de": "Die temporären Dateien beim Beenden des Programms entfernen",
            "fr": "Supprimer les fichiers temporaires à la sortie du programme",
        },
        "Print the version number of this program and exit": {
            "de": "Die Versionsnummer dieses Programms ausgeben und beenden",
            "fr": "Afficher le numéro de version de ce programme et quitter",
        },
    },
}


def write_fake_catalog(root, domain, language, messages):
    """Write ``<root>/<language>/LC_MESSAGES/<domain>.mo`` from msgid -> {language: msgstr}."""
    write_mo(
        root / language / "LC_MESSAGES" / f"{domain}.mo",
        {msgid: translations[language] for msgid, translations in messages.items()},
    )


@pytest.fixture
def fake_locale(tmp_path, monkeypatch):
    """A locale folder holding the German and French catalogs of the fake pinned packages."""
    root = tmp_path / "locale"
    for domain, messages in FAKE_CATALOGS.items():
        for language in ("de", "fr"):
            write_fake_catalog(root, domain, language, messages)
    monkeypatch.setattr(_catalogs, "LOCALE_DIR", root)
    monkeypatch.setattr(_catalogs, "CATALOG_MANIFEST", FAKE_MANIFEST)
    return root
