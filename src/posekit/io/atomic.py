"""Atomic file output: a result file is either complete or absent, never half-written.

Every writer in posekit writes to a temporary file in the destination folder and renames it over the
final name only when writing succeeded (``os.replace`` is atomic within one file system). On any
exception the temporary file is deleted and the exception propagates; an existing file at the final
path is left untouched.

Two forms:

* :func:`atomic_write` yields an open file object (text or binary), for code that writes itself.
* :func:`atomic_path` yields a temporary *path* with the same extension as the target, for libraries
  that insist on opening the file by name (PyAV, pyarrow, matplotlib).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

from posekit.errors import OutputError

__all__ = ["atomic_path", "atomic_write", "ensure_writable_dir"]


def ensure_writable_dir(path: str | Path) -> Path:
    """Create the output folder ``path`` (with parents) if needed and check that it can be written.

    Args:
        path: the folder.

    Returns:
        The folder as an absolute :class:`~pathlib.Path`.

    Raises:
        OutputError: "cannot create or write output folder: <reason>" when the folder cannot be
            created (e.g. a parent is a regular file), is a file, or a probe file cannot be created in it.
    """
    folder = Path(path).expanduser().absolute()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(folder, "cannot create or write output folder: a file with that name exists") from None
    except OSError as exc:
        raise OutputError(folder, f"cannot create or write output folder: {_reason(exc)}") from exc
    # Probe with a real file: permission bits lie (root, ACLs, read-only mounts).
    try:
        fd, probe = tempfile.mkstemp(prefix=".posekit-write-test-", dir=folder)
    except OSError as exc:
        raise OutputError(folder, f"cannot create or write output folder: {_reason(exc)}") from exc
    os.close(fd)
    os.unlink(probe)
    return folder


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The temporary name keeps the target's extension (``.out.mp4`` → ``.out.mp4.<random>.tmp.mp4``) so
    libraries that pick a format from the name still see the right one. The folder must exist.

    Args:
        path: the final file path.

    Yields:
        The temporary path (not yet created; the caller writes it).

    Raises:
        OutputError: when the temporary file cannot be created in the folder or the rename fails.
    """
    target = Path(path).expanduser().absolute()
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent
        )
    except OSError as exc:
        raise OutputError(target, f"cannot write output file: {_reason(exc)}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # mkstemp creates the file 0600; give the result the mode a plain open() would have.
        os.chmod(tmp, 0o666 & ~_umask())
        yield tmp
        if not tmp.exists():
            raise OutputError(target, "cannot write output file: the writer produced no file")
        _replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_write(
    path: str | Path,
    mode: Literal["w", "wb"] = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; fsync and rename it to ``path`` on success.

    Args:
        path: the final file path (its folder must exist; see :func:`ensure_writable_dir`).
        mode: ``"w"`` (text) or ``"wb"`` (binary).
        encoding: text encoding (ignored in binary mode).
        newline: passed to :func:`open` in text mode.

    Yields:
        The open file object.

    Raises:
        ValueError: for any other mode.
        OutputError: when the temporary file cannot be created or the rename fails.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp:
        if mode == "wb":
            fh: IO[Any] = open(tmp, "wb")  # noqa: SIM115 - closed below
        else:
            fh = open(tmp, "w", encoding=encoding, newline=newline)  # noqa: SIM115
        try:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fh.close()


def _replace(tmp: Path, target: Path) -> None:
    try:
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(target, f"cannot write output file: {_reason(exc)}") from exc
    # Make the rename durable where the platform allows it (POSIX: fsync the folder).
    with contextlib.suppress(OSError, AttributeError):
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no other portable way to read it
    os.umask(mask)
    return mask


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
