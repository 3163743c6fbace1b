"""The data files shipped with the bot: the one place that knows where they are.

They live in the package ``bot.data``. In the source tree that package is the top-level
``data/`` folder (``[tool.setuptools.package-dir]`` in pyproject.toml maps it), so the
files stay where people edit them; a wheel carries every file of ``data/`` inside the
package, so an installed ``quotebot`` finds them from any working directory. Nothing else
builds a path to these files: a new data file needs no packaging change, only a name here
or a :func:`data_file` call.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DATA_PACKAGE = "bot.data"
SEED_DOCUMENT = "statements.txt"
CATALOG_FILE = "catalog.toml"
SOURCES_FILE = "sources.toml"  # the seed's provenance (bot/provenance_file.py)


def data_dir() -> Path:
    """The folder holding the shipped data files (``data/`` in a source checkout).

    Always a real folder: the package is installed as files (wheels are unpacked), and the
    corpus reads documents by path, naming the file in its error messages.
    """
    try:
        root = resources.files(DATA_PACKAGE)
    except ModuleNotFoundError:
        # bot/ imported straight from a checkout (PYTHONPATH) that was never installed:
        # bot.data exists only through the install's package-dir mapping.
        raise FileNotFoundError(
            f"the seed data ({DATA_PACKAGE}) is not installed; install quotebot with "
            "`make` or `pip install -e .` in the checkout, or `pip install .`"
        ) from None
    if not isinstance(root, Path):  # e.g. imported from a zip archive
        raise RuntimeError(f"{DATA_PACKAGE} must be installed as files, not in {root!r}")
    return root


def data_file(name: str) -> Path:
    """One shipped data file by name, e.g. ``data_file(CATALOG_FILE)``."""
    return data_dir() / name
