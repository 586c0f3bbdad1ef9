"""plotext's character matrix read directly: the one place gdtutor uses internals of plotext
and textual-plotext, and only for speed.

textual-plotext draws a plot by asking plotext for ANSI text, which Rich then parses back into
styles: about 9 ms a plot at 120×40 on the machine of benchmarks/README.md, against about 3 ms
for reading plotext's matrix of characters and colours, which a step (one new point) needs
for every plot on screen. That matrix is plotext's internal state, so it is read only from the
versions it was checked against (`SUPPORTED`). With any other version, or once reading it has
failed where textual-plotext's own drawing did not, `rows` returns None and the plot is drawn
by textual-plotext's public rendering; tests/test_plot_drawing.py checks that the two draw the
same cells, colour for colour, and that the fallback is taken.
"""
from __future__ import annotations

import functools
import itertools
from importlib.metadata import PackageNotFoundError, version

from rich.style import Style
from rich.text import Text

SUPPORTED = {"plotext": ((5, 2), (6, 0)), "textual-plotext": ((1, 0), (2, 0))}   # [low, high)

Row = tuple[tuple[str, Style], ...]      # one line: runs of (text, style)


def release(text: str) -> tuple[int, ...]:
    """'5.3.2' → (5, 3, 2); a part that is not a number ends it, missing parts are 0
    ('6.0rc1' → (6, 0, 0))."""
    parts = []
    for part in text.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts + [0] * (3 - len(parts)))


def supported(versions: dict[str, str | None]) -> bool:
    """True when every package of SUPPORTED is installed at a version in its range."""
    for name, (low, high) in SUPPORTED.items():
        found = versions.get(name)
        if found is None or not low <= release(found) < high:
            return False
    return True


def installed() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in SUPPORTED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


enabled = supported(installed())


def disable() -> None:
    """Draw with textual-plotext's own rendering from now on."""
    global enabled
    enabled = False


def rows(plot, width: int, height: int) -> list[Row] | None:
    """plotext's drawing of `plot` (a PlotextPlot whose figure is fed) at width × height, as
    rows of runs, top row first; None when the matrix is not to be read."""
    if not enabled:
        return None
    plt = plot.plt
    # what PlotextPlot.render does before plotext's build
    plt.plotsize(width, height)
    plt._set_size(width, height)
    plt.theme(plot._get_plotext_theme_name(plot.app.theme))
    # plotext's build up to the matrix; its rows are stored bottom up
    plt._set_sizes()
    plt._build_matrix()
    matrix = plt.monitor.matrix
    out = []
    for row in reversed(matrix.Rows):
        markers = matrix.marker[row]
        runs, start = [], 0
        colours = zip(matrix.fullground[row], matrix.style[row], matrix.background[row])
        for colour, group in itertools.groupby(colours):
            end = start + sum(1 for _ in group)
            runs.append(("".join(markers[start:end]), _style(colour)))
            start = end
        out.append(tuple(runs))
    return out


@functools.lru_cache(maxsize=256)
def _style(colors: tuple) -> Style:
    """The Rich style of one plotext (foreground, style, background), read from the very
    escape codes plotext would write for it."""
    from plotext import _utility
    foreground, style, background = colors
    code = _utility.colors_to_ansi(foreground, style, background)
    text = Text.from_ansi(f"{code}x{_utility.ansi_end}")
    spans = text.spans
    return spans[0].style if spans else Style()
