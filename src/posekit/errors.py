"""Errors raised by posekit.

Every error that concerns a file names the file and the problem in one readable sentence, so the CLI can
print it as is and exit non-zero.
"""

from __future__ import annotations

from pathlib import Path


class PosekitError(Exception):
    """Base class of all posekit errors."""


class InputError(PosekitError):
    """A bad input: missing, empty, corrupt, truncated, unsupported or absurd.

    Args:
        path: the offending file or folder (or a description such as ``"webcam 0"``).
        problem: what is wrong, in plain words.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class TruncatedInputError(InputError):
    """A stream (video) broke part-way. ``frames_read`` frames were decoded before the break."""

    def __init__(self, path: str | Path, problem: str, frames_read: int) -> None:
        self.frames_read = frames_read
        super().__init__(path, problem)


class OutputError(PosekitError):
    """An output location cannot be written."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ModelNotFoundError(PosekitError):
    """A model file is not installed. The message says how to install it."""


class ValidationError(PosekitError, ValueError):
    """Arrays of the wrong shape, dtype or content for a pose container."""


class ImageArrayError(InputError, ValidationError):
    """An array passed as an image is not an ``(H, W, 3)`` uint8 RGB image (both a bad input and a
    validation failure, so callers may catch either)."""

    def __init__(self, problem: str) -> None:
        super().__init__("image array", problem)
