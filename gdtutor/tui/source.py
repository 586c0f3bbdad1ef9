"""Has the lesson file changed? Polled, not watched: it works alike on local disks and NFS."""
from __future__ import annotations

import os
from pathlib import Path

HASH_LIMIT = 1 << 20    # bytes: a lesson file this small is read and hashed on every poll

Signature = tuple[int, int, bytes | None]


def signature(path: Path) -> Signature | None:
    """(mtime_ns, size, hash of the bytes); None while the file cannot be read.

    The hash catches an edit that keeps the size within one tick of a coarse clock (NFS and
    FAT stamp whole seconds); it is skipped for a file too big to be a lesson."""
    import hashlib   # only a lesson opened from a file is watched
    try:
        stat = os.stat(path)
        digest = None
        if stat.st_size <= HASH_LIMIT:
            digest = hashlib.blake2b(Path(path).read_bytes(), digest_size=16).digest()
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
        if old is not None and now[2] is not None and now[2] == old[2]:
            self.seen = now  # touched, not edited
            return None
        return now
