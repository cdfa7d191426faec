"""`-o` and every file archstat writes: atomic for files, links followed, devices and FIFOs in place."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import archstat.report.output as output
from archstat.cli.main import main
from archstat.errors import UsageError
from archstat.report.output import atomic_write, check_writable

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# --- regular files ---------------------------------------------------------------------------------

def test_a_new_file_gets_the_mode_open_would_give(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "new.txt"
    atomic_write(target, "hello")
    assert target.read_text() == "hello"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert names(tmp_path) == ["new.txt"]


def test_an_existing_private_file_stays_private_and_is_replaced_whole(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "secret.json"
    target.write_text("old contents, longer than the new ones")
    target.chmod(0o600)
    inode = target.stat().st_ino
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.stat().st_ino != inode   # renamed into place, not rewritten through the old inode
    assert names(tmp_path) == ["secret.json"]


def test_an_executable_or_group_writable_mode_is_kept(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "shared.csv"
    target.write_text("old")
    target.chmod(0o775)
    atomic_write(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o775


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another user")
def test_root_keeps_the_owner_of_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "theirs.txt"
    target.write_text("old")
    os.chown(target, 4321, 4322)
    atomic_write(target, "new")
    info = target.stat()
    assert (info.st_uid, info.st_gid, target.read_text()) == (4321, 4322, "new")


# --- symbolic links ---------------------------------------------------------------------------------

def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "out.md"
    target.write_text("stale")
    target.chmod(0o640)
    link = tmp_path / "link.md"
    link.symlink_to(os.path.relpath(target, tmp_path))
    chain = tmp_path / "chain.md"
    chain.symlink_to(link)
    assert check_writable(chain) == target.resolve()
    atomic_write(chain, "fresh")
    assert link.is_symlink() and chain.is_symlink()
    assert os.readlink(link) == os.path.relpath(target, tmp_path)
    assert target.read_text() == "fresh"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    # the temporary file was made beside the real target, and nothing is left of it
    assert names(real_dir) == ["out.md"] and names(tmp_path) == ["chain.md", "link.md", "real"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "later.txt")
    atomic_write(link, "made")
    assert link.is_symlink() and (tmp_path / "later.txt").read_text() == "made"


def test_a_symlink_to_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "dir")
    with pytest.raises(UsageError, match="is a directory"):
        atomic_write(tmp_path / "link", "x")


# --- devices, FIFOs and stdout -------------------------------------------------------------------------

@pytest.mark.skipif(not IS_ROOT, reason="mknod of a character device needs root")
def test_a_character_device_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))   # a replica of /dev/null
    atomic_write(device, "discarded")
    info = device.lstat()
    assert stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, 3)
    assert names(tmp_path) == ["null"]


def test_dev_null_stays_a_device_through_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    # CI runs as root, where a rename over /dev/null would succeed and break the machine.
    assert main(["summary", "resnet18", "-o", "/dev/null"]) == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert capsys.readouterr().err == "wrote /dev/null\n"


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as f:
            received.append(f.read())

    reader = threading.Thread(target=read, daemon=True)   # daemon: a broken write must not hang pytest
    reader.start()
    atomic_write(fifo, "through the pipe")
    reader.join(timeout=60)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and names(tmp_path) == ["pipe"]


def test_dash_is_stdout(capfd: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)   # where a file named "-" would appear
    atomic_write("-", "to stdout\n")
    assert capfd.readouterr().out == "to stdout\n"
    assert main(["summary", "lenet5", "--format", "csv", "-o", "-"]) == 0
    through_dash = capfd.readouterr()
    assert main(["summary", "lenet5", "--format", "csv"]) == 0
    assert through_dash.out == capfd.readouterr().out and through_dash.err == ""
    assert names(tmp_path) == []


# --- failures and interruptions ------------------------------------------------------------------------

@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError(28, "No space left on device")],
                         ids=["interrupt", "disk-full"])
def test_an_interrupted_write_leaves_the_old_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            error: BaseException) -> None:
    target = tmp_path / "out.json"
    target.write_text("precious")
    target.chmod(0o600)
    before = target.stat()

    def fail(fd: int) -> None:   # part of the payload is already in the temporary file
        raise error

    monkeypatch.setattr(output.os, "fsync", fail)
    with pytest.raises(type(error) if isinstance(error, KeyboardInterrupt) else UsageError):
        atomic_write(target, "a new payload that never lands")
    after = target.stat()
    assert target.read_text() == "precious"
    assert (after.st_ino, after.st_mode, after.st_mtime_ns) == (before.st_ino, before.st_mode, before.st_mtime_ns)
    assert names(tmp_path) == ["out.json"]


def test_an_interrupted_command_leaves_the_old_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.csv"
    target.write_text("precious")

    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "fsync", interrupt)
    assert main(["summary", "lenet5", "-o", str(target)]) == 130
    assert capsys.readouterr().err == "archstat: interrupted\n"
    assert target.read_text() == "precious" and names(tmp_path) == ["out.csv"]


def test_unwritable_outputs_are_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        check_writable(tmp_path / "missing" / "out.txt")
    with pytest.raises(UsageError, match="is a directory"):
        check_writable(tmp_path)
    if not IS_ROOT:   # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(UsageError, match="permission denied"):
            check_writable(locked / "out.txt")
