"""Shared fixtures.

Integration tests read the real recordings from ``$POSEKIT_TEST_DATA`` (default: ``../shared/data``
next to the repository). They are never copied into the repository. When the folder is absent the
integration tests FAIL with a message saying where they looked (a skipped test proves nothing).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _data_dir() -> Path:
    env = os.environ.get("POSEKIT_TEST_DATA")
    return Path(env).expanduser().resolve() if env else (REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Root of the shared real test data (``$POSEKIT_TEST_DATA``, default ``../shared/data``)."""
    d = _data_dir()
    if not (d / "MANIFEST.tsv").is_file():
        pytest.fail(f"real test data not found at {d}: set POSEKIT_TEST_DATA to the shared data folder")
    return d
