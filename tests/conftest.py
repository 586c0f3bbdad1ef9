"""What the whole suite shares.

Hypothesis runs every property test repeatably: the "gdtutor" profile, loaded here for the
whole suite, derives each test's examples from the test itself (derandomize), keeps no example
database and sets no deadline (a shared machine's pauses are not failures). A test's own
`@settings` changes only what it names, so it stays derandomized.

Every test starts in English, and with a progress file of its own (GDTUTOR_PROGRESS, inherited
by every gdtutor it starts): the suite never writes to the home directory's progress file, and
no test sees another's progress."""
from __future__ import annotations

import pytest
from hypothesis import settings

from gdtutor import i18n

settings.register_profile("gdtutor", derandomize=True, database=None, deadline=None)
settings.load_profile("gdtutor")


@pytest.fixture(autouse=True)
def _own_progress_file(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("progress", numbered=True)
    monkeypatch.setenv("GDTUTOR_PROGRESS", str(folder / "progress.jsonl"))


@pytest.fixture(autouse=True)
def _english_between_tests():
    """A test that opens the tutor or a command in Chinese leaves the next test in English."""
    yield
    i18n.set_lang("en")
