"""Where built data sets live, and the clear error for a missing data source."""

import importlib
import os
import shutil
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
