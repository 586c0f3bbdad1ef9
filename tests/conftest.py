"""What the whole suite shares.

Hypothesis runs every property test repeatably: the "gdtutor" profile, loaded here for the
whole suite, derives each test's examples from the test itself (derandomize), keeps no example
database and sets no deadline (a shared machine's pauses are not failures). A test's own
`@settings` changes only what it names, so it stays derandomized.

The suite keeps gdtutor's cache of built-in lesson trees in a folder of its own, never in the
home directory: set at configure time, since collecting the tests already loads lessons, and
inherited by every gdtutor the tests start."""
from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from hypothesis import settings

settings.register_profile("gdtutor", derandomize=True, database=None, deadline=None)
settings.load_profile("gdtutor")

_CACHE_HOME = pytest.StashKey[tuple]()


def pytest_configure(config: pytest.Config) -> None:
    folder = tempfile.mkdtemp(prefix="gdtutor-test-cache-")
    config.stash[_CACHE_HOME] = (folder, os.environ.get("XDG_CACHE_HOME"))
    os.environ["XDG_CACHE_HOME"] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder, before = config.stash.get(_CACHE_HOME, (None, None))
    if folder is None:
        return
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before
    shutil.rmtree(folder, ignore_errors=True)
