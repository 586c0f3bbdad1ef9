"""Has the lesson file changed? Polled, not watched: it works alike on local disks and NFS.

Only a regular file is ever opened, and without waiting: a FIFO or a device put in the lesson
file's place would hold the reading thread until something writes to it."""
from __future__ import annotations

import os
import stat as stat_module
from pathlib import Path

from ..i18n import _

HASH_LIMIT = 1 << 20    # bytes: a lesson file this small is read and hashed on every poll

Signature = tuple[int, int, bytes | None]

NOT_REGULAR = b"not a regular file"   # the digest slot of a path that is no regular file


def not_regular(path: Path) -> str | None:
    """Why `path` is not read as a lesson (it is a FIFO, a device, a folder), or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None          # missing or unreadable: the loader says so in its own words
    if stat_module.S_ISREG(mode):
        return None
    kind = (_("a FIFO") if stat_module.S_ISFIFO(mode) else
            _("a folder") if stat_module.S_ISDIR(mode) else
            _("a device") if stat_module.S_ISCHR(mode) or stat_module.S_ISBLK(mode) else
            _("a socket") if stat_module.S_ISSOCK(mode) else _("not a file"))
    return _("is {kind}, not a regular file: a lesson is read from a file").format(kind=kind)


def _read_regular(path: Path, limit: int) -> bytes | None:
    """Up to `limit` bytes of `path` if it is a regular file (opened without blocking, and
    checked again once open, in case it was replaced in between); None otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks, left = [], limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def signature(path: Path) -> Signature | None:
    """(mtime_ns, size, hash of the bytes); None while the file cannot be read.

    The hash catches an edit that keeps the size within one tick of a coarse clock (NFS and
    FAT stamp whole seconds); it is skipped for a file too big to be a lesson. A path that is
    no regular file has NOT_REGULAR in its place, and is never opened."""
    import hashlib   # only a lesson opened from a file is watched
    try:
        stat = os.stat(path)
        if not stat_module.S_ISREG(stat.st_mode):
            return stat.st_mtime_ns, stat.st_size, NOT_REGULAR
        digest = None
        if stat.st_size <= HASH_LIMIT:
            data = _read_regular(path, HASH_LIMIT + 1)
            if data is None:
                return stat.st_mtime_ns, stat.st_size, NOT_REGULAR
            digest = hashlib.blake2b(data, digest_size=16).digest()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, digest


class SourceWatch:
    """One lesson file and the version of it last taken in (shown, or reported as bad)."""

    def __init__(self, path: Path, seen: Signature | None = None) -> None:
        self.path = Path(path)
        self.seen = signature(self.path) if seen is None else seen

    def changed(self) -> Signature | None:
        """The file's new signature if its content differs from the version last taken in."""
        now = signature(self.path)
        if now is None or now == self.seen:
            return None      # a file briefly missing (an editor's save) is not an edit
        old = self.seen
        if old is not None and now[2] is not None and now[2] == old[2] \
                and now[2] != NOT_REGULAR:
            self.seen = now  # touched, not edited
            return None
        return now
