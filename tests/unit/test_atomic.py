"""posekit.io.atomic: outputs are complete or absent; unwritable folders fail with OutputError."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from posekit.errors import OutputError
from posekit.io.atomic import atomic_path, atomic_write, ensure_writable_dir


def _leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_atomic_write_text_and_binary(tmp_path: Path) -> None:
    p = tmp_path / "out.json"
    with atomic_write(p) as fh:
        fh.write('{"a": "é"}')
        assert not p.exists()  # nothing visible until success
    assert p.read_text(encoding="utf-8") == '{"a": "é"}'
    b = tmp_path / "out.bin"
    with atomic_write(b, "wb") as fh:
        fh.write(b"\x00\x01")
    assert b.read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path, {"out.json", "out.bin"}) == []


def test_atomic_write_gives_normal_permissions(tmp_path: Path) -> None:
    p = tmp_path / "perm.txt"
    with atomic_write(p) as fh:
        fh.write("x")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(p.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_atomic_write_error_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "result.csv"
    p.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(p) as fh:
        fh.write("new, half written")
        raise RuntimeError("boom")
    assert p.read_text() == "old"
    assert _leftovers(tmp_path, {"result.csv"}) == []


def test_atomic_write_error_creates_nothing(tmp_path: Path) -> None:
    p = tmp_path / "never.txt"
    with pytest.raises(KeyboardInterrupt), atomic_write(p) as fh:
        fh.write("x")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_existing(tmp_path: Path) -> None:
    p = tmp_path / "r.txt"
    p.write_text("old")
    with atomic_write(p) as fh:
        fh.write("new")
    assert p.read_text() == "new"


def test_atomic_write_rejects_other_modes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'w' or 'wb'"), atomic_write(tmp_path / "x", "a"):  # type: ignore[arg-type]
        pass


def test_atomic_write_in_missing_folder_is_output_error(tmp_path: Path) -> None:
    p = tmp_path / "missing" / "x.txt"
    with pytest.raises(OutputError) as e, atomic_write(p) as fh:
        fh.write("x")
    assert "x.txt" in str(e.value) and "cannot write output file" in str(e.value)


def test_atomic_path_keeps_extension_and_commits(tmp_path: Path) -> None:
    target = tmp_path / "video.mp4"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".mp4" and tmp != target
        tmp.write_bytes(b"data")
    assert target.read_bytes() == b"data"
    assert _leftovers(tmp_path, {"video.mp4"}) == []


def test_atomic_path_cleans_up_on_error(tmp_path: Path) -> None:
    target = tmp_path / "table.parquet"
    with pytest.raises(ValueError), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise ValueError("writer failed")
    assert list(tmp_path.iterdir()) == []


def test_ensure_writable_dir_creates_parents(tmp_path: Path) -> None:
    d = ensure_writable_dir(tmp_path / "a" / "b" / "c")
    assert d.is_dir() and d.is_absolute()
    assert list(d.iterdir()) == []  # the probe file is removed
    assert ensure_writable_dir(d) == d  # existing folder is fine


def test_ensure_writable_dir_under_a_regular_file(tmp_path: Path) -> None:
    # Tests may run as root, where chmod does not block writes; a path under a file always fails.
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(OutputError) as e:
        ensure_writable_dir(f / "sub")
    assert "cannot create or write output folder" in str(e.value) and "a_file" in str(e.value)


def test_ensure_writable_dir_on_a_file(tmp_path: Path) -> None:
    f = tmp_path / "results"
    f.write_text("x")
    with pytest.raises(OutputError, match="cannot create or write output folder: a file with that name exists"):
        ensure_writable_dir(f)


def test_ensure_writable_dir_existing_but_unwritable() -> None:
    # /proc/self exists and is a folder, but no file can be created in it, even by root (Linux).
    with pytest.raises(OutputError) as e:
        ensure_writable_dir("/proc/self")
    assert str(e.value).startswith("/proc/self: cannot create or write output folder: ")
