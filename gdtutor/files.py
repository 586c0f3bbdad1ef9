"""Reading a file a user names (a lesson, a progress file) without blocking on what is not a
regular file: a FIFO with no writer, a terminal, a device that never ends."""
from __future__ import annotations

import os
import stat

from .i18n import N_, _


class NotRegular(OSError):
    """A path that is not a regular file (a FIFO, a device, a socket): reading it could block
    for ever or never end."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind

    def __str__(self) -> str:
        """What the path is, in the language of the moment it is shown."""
        return _(self.kind)


_KINDS = ((stat.S_ISFIFO, N_("a named pipe (FIFO)")), (stat.S_ISCHR, N_("a character device")),
          (stat.S_ISBLK, N_("a block device")), (stat.S_ISSOCK, N_("a socket")))


def read_regular(path, limit: int | None = None) -> bytes:
    """Up to `limit` bytes of a regular file (all of it: None). The file is opened without blocking (a FIFO with
    no writer would block the open itself) and checked with fstat before anything is read;
    anything else raises NotRegular (IsADirectoryError for a folder)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            raise NotRegular(next((kind for test, kind in _KINDS if test(mode)),
                                  N_("not a regular file")))
        chunks, size = [], 0
        while limit is None or size < limit:
            chunk = os.read(fd, 1 << 20 if limit is None else min(limit - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)

