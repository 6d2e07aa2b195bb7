"""Where built data sets live, the clear error for a missing data source, and source records."""

import importlib
import os
import shutil
import warnings
from pathlib import Path

DATA_HOME_ENV = "SKLEARN_CONTRASIM_DATA"


def get_data_home(data_home=None):
    """Return the folder where sklearn-contrasim caches the data sets it builds.

    The folder is, in order of precedence: ``data_home`` when given, the
    environment variable ``SKLEARN_CONTRASIM_DATA``, or
    ``~/.cache/sklearn_contrasim``. It is created when missing.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder to use instead of the default.

    Returns
    -------
    data_home : pathlib.Path
        The (existing) data folder.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_contrasim.datasets import get_data_home
    >>> folder = get_data_home(tempfile.mkdtemp())
    >>> folder.is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or Path.home() / ".cache" / "sklearn_contrasim"
    data_home = Path(data_home).expanduser()
    data_home.mkdir(parents=True, exist_ok=True)
    return data_home


def clear_data_home(data_home=None):
    """Delete every cached data set under the data home.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to clear; see :func:`get_data_home`.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_contrasim.datasets import clear_data_home, get_data_home
    >>> folder = get_data_home(tempfile.mkdtemp())
    >>> clear_data_home(folder)
    >>> folder.exists()
    False
    """
    shutil.rmtree(get_data_home(data_home))


class MissingDataSourceError(ImportError):
    """A data source (a Python or Debian package) needed to build a data set is missing.

    The message names the package to install. It subclasses :class:`ImportError`.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import MissingDataSourceError
    >>> from sklearn_contrasim.datasets._home import require_path
    >>> try:
    ...     require_path("/no/such/folder", debian_package="openclipart-png")
    ... except MissingDataSourceError as error:
    ...     print(error)
    /no/such/folder is missing: it ships in the Debian package 'openclipart-png'; run `apt-get install openclipart-png`.
    """


def require_module(module, *, pip_package=None):
    """Import ``module`` or raise :class:`MissingDataSourceError` naming the package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = pip_package or module
        raise MissingDataSourceError(
            f"Building this data set needs the Python package {package!r}: "
            f"run `pip install {package}` (or `pip install sklearn-contrasim[data]`)."
        ) from exc


def require_path(path, *, debian_package):
    """Return ``path`` if it exists, else raise :class:`MissingDataSourceError` naming the package."""
    path = Path(path)
    if not path.exists():
        raise MissingDataSourceError(
            f"{path} is missing: it ships in the Debian package {debian_package!r}; "
            f"run `apt-get install {debian_package}`."
        )
    return path


class DataSourceChangedWarning(UserWarning):
    """A data set is rebuilt because its source (e.g. the installed catalogs) changed.

    Shown whatever the verbosity, since such a rebuild can take minutes and gives other
    numbers than before; the message names the old and new source hashes.

    Examples
    --------
    >>> from sklearn_contrasim.datasets import DataSourceChangedWarning
    >>> issubclass(DataSourceChangedWarning, UserWarning)
    True
    """


def track_source(build, data_home, name, source_hash):
    """Wrap ``build`` to announce a rebuild caused by a changed source, and record the source.

    The data home keeps, per data set ``name``, the source hash of its last build
    (``sources/<name>.txt``). The wrapped build warns with
    :class:`DataSourceChangedWarning` when that record holds another hash, then
    builds and records ``source_hash``.

    Parameters
    ----------
    build : callable
        The build to wrap (called without arguments).
    data_home : path-like
        The data home (see :func:`get_data_home`).
    name : str
        The data set and the settings that fix it, except its source (a file name).
    source_hash : str
        The hash of the source the build reads.

    Returns
    -------
    tracked_build : callable

    Examples
    --------
    >>> import tempfile, warnings
    >>> from sklearn_contrasim.datasets._home import track_source
    >>> home = tempfile.mkdtemp()
    >>> track_source(lambda: "built", home, "toy", "aaa")()
    'built'
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = track_source(lambda: "built", home, "toy", "bbb")()
    >>> print(caught[0].message)
    The source of toy changed since its last build (source hash aaa -> bbb):
    rebuilding it, with other data than before.
    """
    from ._store import write_file

    record = Path(data_home) / "sources" / f"{name}.txt"

    def tracked_build():
        try:
            previous = record.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            previous = None
        if previous and previous != source_hash:
            warnings.warn(
                f"The source of {name} changed since its last build (source hash "
                f"{previous[:12]} -> {source_hash[:12]}): rebuilding it, with other data "
                "than before.",
                DataSourceChangedWarning,
                stacklevel=4,
            )
        result = build()
        write_file(record, lambda handle: handle.write(source_hash.encode("ascii")))
        return result

    return tracked_build
