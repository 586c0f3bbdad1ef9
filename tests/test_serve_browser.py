"""`gdtutor serve` in a real browser: headless Chromium opens the page, types `n n n` on the
worked example, and the terminal it shows (xterm.js's buffer) reads w3 = 7/4.

GDTUTOR_BROWSER_PNG=PATH also saves the screenshot there (docs/browser.png is made so)."""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from classroom import Served  # noqa: E402

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1280,900")
# textual-serve's page keeps its xterm.js Terminal in `this.terminal` of its own object; this
# runs before the page's scripts and keeps a reference where the test can read the buffer
KEEP_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  set(value) {
    if (value && value.buffer && !window.gdtutorTerminal) window.gdtutorTerminal = value;
    Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true,
                                             enumerable: true});
  },
});
"""
# every row of the terminal's active buffer (xterm.js's API), else of its DOM renderer
ROWS_JS = """
const term = window.gdtutorTerminal;
if (term) {
  const buffer = term.buffer.active, rows = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : '');
  }
  return rows;
}
const dom = document.querySelector('.xterm-rows');
return dom ? Array.from(dom.children).map(row => row.textContent) : null;
"""

def missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs selenium (pip install '.[test]')"
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        return "needs textual-serve (pip install '.[serve]')"
    if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
        return "needs Debian's chromium (apt-get install chromium)"
    if not os.path.exists(CHROMEDRIVER):
        return f"needs chromedriver at {CHROMEDRIVER} (apt-get install chromium-driver)"
    return None


def browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_TERMINAL})
    return driver


def shown(driver) -> str:
    """What the page's terminal shows, row by row."""
    rows = driver.execute_script(ROWS_JS)
    if rows and any(r.strip() for r in rows):
        return "\n".join(rows)
    return ""


def until(driver, check, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    text = shown(driver)
    while not check(text) and time.monotonic() < deadline:
        time.sleep(0.1)
        text = shown(driver)
    return text


def weight(text: str, k: int) -> Fraction | None:
    """The value after the last '= ' on the line of "wk = w(k-1) − α·grad = … = value"."""
    for line in text.splitlines():
        match = re.search(rf"\bw{k} = w{k - 1} − α·grad = .*= (\S+)", line)
        if match:
            return Fraction(match.group(1).replace("−", "-"))
    return None


@pytest.mark.slow
def test_headless_chromium_steps_the_worked_example_to_7_4(tmp_path):
    reason = missing()
    if reason:
        pytest.skip(reason)
    served = Served("worked-example").ready()
    profile = Path(tempfile.mkdtemp(prefix="gdtutor-chromium-", dir=tmp_path))
    driver = browser(profile)
    try:
        driver.get(served.base + "/")
        from selenium.webdriver.common.by import By
        text = until(driver, lambda t: "w0 = 0" in t, 60)
        assert "w0 = 0" in text, text
        assert "A worked example" in text
        area = driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")
        for _ in range(3):
            area.send_keys("n")
        text = until(driver, lambda t: weight(t, 3) is not None, 20)
        # the document's third step: w3 = 3/2 − (−1/4) = 7/4, and closed form 2 − 1/2^(k−1)
        assert weight(text, 3) == Fraction(7, 4) == 2 - Fraction(1, 2 ** 2), text
        assert "k = 3 of 20" in text
        shot = tmp_path / "browser.png"
        driver.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("GDTUTOR_BROWSER_PNG"):
            shutil.copyfile(shot, os.environ["GDTUTOR_BROWSER_PNG"])
    finally:
        driver.quit()
        served.stop()
