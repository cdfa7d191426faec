"""Writing results: a file is replaced all at once, and what it points to or is keeps its nature.

- A regular file, or a new path, is written to a temporary file beside it and renamed into place,
  so a failed or interrupted write leaves the old file as it was. An existing file keeps its
  permission bits (and, when run as root, its owner); a new one gets 0666 less the umask.
- A symbolic link is followed: its final target is replaced and the link stays a link.
- A device node (`/dev/null`, a terminal) or a FIFO is opened and written in place; replacing
  one by a regular file, as a rename would, breaks the system for every other user of it.
- `-` is standard output.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

from archstat.errors import UsageError

STDOUT = "-"


def _is_stream(mode: int) -> bool:
    """Character and block devices, FIFOs and sockets: written in place, never replaced."""
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail early, before any work, when the output cannot be written; the path that will be written.

    That is the final target of a symbolic link to a file, the path itself for a device or a FIFO
    (`/dev/stderr` links to a pipe that has no path), and `Path("-")` for standard output.
    """
    if os.fspath(path) == STDOUT:
        return Path(STDOUT)
    given = Path(path)
    try:
        mode: int | None = os.stat(given).st_mode   # through any links
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as exc:
        raise UsageError(f"cannot write {given}: {exc.strerror or exc}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError(f"cannot write {given}: it is a directory")
    if mode is not None and _is_stream(mode):
        if not os.access(given, os.W_OK):
            raise UsageError(f"cannot write {given}: permission denied")
        return given
    target = Path(os.path.realpath(given))
    shown = f"{given} (a link to {target})" if given.is_symlink() else str(given)
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {shown}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (mode is not None and not os.access(target, os.W_OK)):
        raise UsageError(f"cannot write {shown}: permission denied")
    return target


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write `data` to `path` as the module docstring says: atomically for files, in place for streams."""
    target = check_writable(path)
    payload = data if isinstance(data, bytes) else data.encode("utf-8")
    if str(target) == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
        return
    try:
        existing: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        existing = None
    try:
        if existing is not None and _is_stream(existing.st_mode):
            with open(target, "wb") as stream:
                stream.write(payload)
        else:
            _replace(target, payload, existing)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _replace(target: Path, payload: bytes, existing: os.stat_result | None) -> None:
    """Write a temporary file beside `target` with its mode (and owner), then rename it over `target`."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            # mkstemp makes the file private (0600); give it the target's bits, or those open() would.
            os.fchmod(f.fileno(), stat.S_IMODE(existing.st_mode) if existing is not None else _new_file_mode())
            if existing is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
                # a file system without owners (some network mounts) refuses; the bits still hold
                with suppress(OSError):
                    os.fchown(f.fileno(), existing.st_uid, existing.st_gid)
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
