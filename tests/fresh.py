"""Python code run in a fresh interpreter (what an import does can only be seen from the
start), its last line of output read as JSON. It runs in the repository's root, so that
`import gdtutor` finds this checkout first."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def fresh_json(code: str):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
