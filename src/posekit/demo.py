"""The built-in example: a real photo of a person shipped inside an installed dependency."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

__all__ = ["demo_image_path"]


def demo_image_path() -> Path:
    """Path of matplotlib's sample photo of Grace Hopper (``mpl-data/sample_data/grace_hopper.jpg``).

    Raises:
        InputError: when matplotlib's sample data is not installed.
    """
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if not path.is_file():
        raise InputError(path, "matplotlib's sample photo is not installed (reinstall matplotlib)")
    return path
