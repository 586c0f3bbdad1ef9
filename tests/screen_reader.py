"""What a running app shows, read through Textual's public screenshot (`App.export_screenshot`):
the screen as text, one line per row, and the notifications the app was asked to show."""
from __future__ import annotations

import html
import re

from rich.cells import cell_len

# Rich's SVG export: a character cell is 20 × 0.61 units wide, and each run of text is a
# <text> at its column, clipped to its line
CELL = 20 * 0.61
TEXT = re.compile(r'<text [^>]*\bx="([0-9.]+)"[^>]*clip-path="url\(#[^"]*-line-(\d+)\)"[^>]*>'
                  r'(.*?)</text>')


def screen_text(app) -> str:
    """The whole screen as a person reads it, one line per row (wide characters once)."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, line, text in TEXT.findall(app.export_screenshot()):
        row, column = rows[int(line)], round(float(x) / CELL)
        for ch in html.unescape(text).replace("\xa0", " "):
            if column >= width:
                break
            row[column] = ch
            if cell_len(ch) == 2 and column + 1 < width:
                row[column + 1] = ""
            column += cell_len(ch)
    return "\n".join("".join(row).rstrip() for row in rows) + "\n"


def record_notifications(app):
    """`app` with every message it is asked to notify kept in `app.notified`, in order."""
    app.notified = []
    notify = app.notify

    def keep(message, *args, **kwargs):
        app.notified.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = keep
    return app
