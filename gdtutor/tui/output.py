"""Only the cells that changed since the last frame go to the terminal: over a slow SSH link a
step costs what changed on screen, not the screen."""
from __future__ import annotations

from itertools import repeat

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from textual._compositor import ChopsUpdate, CompositorUpdate, LayoutUpdate
from textual.driver import Driver
from textual.geometry import Size
from textual.strip import Strip

Cell = tuple[str, "Style | None"]
WIDE_TAIL = ""     # the second column of a double-width character


def cells_of(strip: Strip) -> list[Cell]:
    """One (text, style) a terminal column; a wide character's second column is WIDE_TAIL."""
    cells: list[Cell] = []
    append = cells.append
    for text, style, control in strip:
        if control:
            continue
        if text.isascii():
            cells.extend(zip(text, repeat(style)))
            continue
        for ch in text:
            width = cell_len(ch)
            if width == 1:
                append((ch, style))
            elif width == 2:
                append((ch, style))
                append((WIDE_TAIL, style))
            elif cells:           # a combining mark belongs to the column before it
                prev, prev_style = cells[-1]
                cells[-1] = (prev + ch, prev_style)
    return cells


class Patch(CompositorUpdate):
    """Some runs of cells, each written at its own position."""

    def __init__(self, runs: list[tuple[int, int, Strip]]) -> None:
        self.runs = runs

    def render_segments(self, console: Console) -> str:
        return "".join(f"\x1b[{y + 1};{x + 1}H{strip.render(console)}" for x, y, strip in self.runs)


class ScreenMemory:
    """What the terminal shows, cell by cell, as far as gdtutor has drawn it.

    Every frame, full or partial, is cut down to the runs of cells that differ from what is
    remembered. Anything that may have changed the terminal behind gdtutor's back (a resize,
    a suspend) makes it forget, and the next frame is then written whole.
    """

    def __init__(self) -> None:
        self.lines: dict[int, list[Cell]] = {}
        self.size: Size | None = None

    def forget(self) -> None:
        self.lines.clear()
        self.size = None

    def reduce(self, update, size: Size):
        """The update to write instead of `update` (None: nothing on screen changes)."""
        if size != self.size:
            self.forget()
            self.size = size
        runs: list[tuple[int, int, Strip]] = []
        if isinstance(update, LayoutUpdate):
            x = update.region.x
            for y, strips in enumerate(update.strips, update.region.y):
                runs.extend(self._changes(x, y, Strip.join(strips)))
            return Patch(runs) if runs else None
        if not isinstance(update, ChopsUpdate):
            self.forget()
            return update
        for y, x1, x2 in update.spans:
            for end, (x, strip) in zip(update.chop_ends[y], update.chops[y].items()):
                if strip is None or x > x2 or end <= x1:
                    continue
                if not (x2 > x >= x1 and end <= x2):
                    strip = strip.crop(0, min(end, x2) - x)
                runs.extend(self._changes(x, y, strip))
        return Patch(runs) if runs else None

    def _changes(self, x: int, y: int, strip: Strip) -> list[tuple[int, int, Strip]]:
        """The part of `strip`, written at x, that differs from what is there: the run from
        the first to the last differing column (one run: a cursor move costs more than a few
        unchanged cells)."""
        new = cells_of(strip)
        line = self.lines.get(y)
        old = line[x:x + len(new)] if line is not None else []
        if old == new:
            return []
        first, last = 0, len(new)
        if len(old) == len(new):
            while new[first] == old[first]:
                first += 1
            while new[last - 1] == old[last - 1]:
                last -= 1
        # never cut a double-width character in half
        while first > 0 and new[first][0] == WIDE_TAIL:
            first -= 1
        while last < len(new) and new[last][0] == WIDE_TAIL:
            last += 1
        self._remember(x, y, new)
        part = strip if (first, last) == (0, len(new)) else strip.crop(first, last)
        return [(x + first, y, Strip(Segment.simplify(part), last - first))]

    def _remember(self, x: int, y: int, cells: list[Cell]) -> None:
        line = self.lines.get(y)
        if line is None:
            width = self.size.width if self.size else x + len(cells)
            line = self.lines[y] = [("", None)] * max(width, x + len(cells))
        elif len(line) < x + len(cells):
            line.extend([("", None)] * (x + len(cells) - len(line)))
        line[x:x + len(cells)] = cells


class WritesChangesOnly:
    """For an App: every frame passes through a ScreenMemory on its way to the terminal."""

    _screen_memory: ScreenMemory | None = None

    def _display(self, screen, renderable) -> None:
        # the same conditions under which App._display writes anything at all
        if (renderable is not None and self._running and not self._closed
                and not self.is_headless and self._driver is not None and not self._batch_count):
            if self._screen_memory is None:
                self._screen_memory = ScreenMemory()
            renderable = self._screen_memory.reduce(renderable, self.size)
            if renderable is None:
                return
        super()._display(screen, renderable)

    def _suspend_signal(self) -> None:
        # whatever runs while gdtutor is suspended owns the terminal: afterwards, draw it all
        if self._screen_memory is not None:
            self._screen_memory.forget()
        super()._suspend_signal()

    def _on_driver_signal_resume(self, event: Driver.SignalResume) -> None:
        # back from a stop that gdtutor did not ask for (kill -STOP, then -CONT)
        if self._screen_memory is not None:
            self._screen_memory.forget()


class PaintsAfterStartup:
    """For a Screen: its first frame painted whole, once, as soon as it can be.

    Textual lays out and paints a screen pushed while the app starts (inside a batch), then
    throws that frame away, since nothing is written in a batch; the first frame the terminal
    got was then one painted before the layout had settled (the plots empty), followed at
    once by the whole screen again. Skipped here, the screen is painted once, whole, as soon
    as the batch ends (not at the next tick of its update timer): about 8 KB and one render
    fewer before the first frame, and a frame period sooner. The events that follow its first
    showing do not style it or lay it out again.
    """

    def _on_screen_resume(self, event) -> None:
        if not self.stack_updates:
            # shown for the first time: its widgets were styled as they were mounted
            event.refresh_styles = False
        super()._on_screen_resume(event)

    def _screen_resized(self, size) -> None:
        # the terminal's size, read at start, reaches a screen pushed at start only after its
        # first frame: it is laid out at that size already, and is not laid out again
        if size != self._size:
            super()._screen_resized(size)

    def _paint_after_startup(self) -> None:
        if self.app._batch_count or not self.is_current:
            self.check_idle()
        else:
            # now, not at the next tick of the screen's update timer, a frame period (1/60 s)
            # after the start-up, with nothing else to do meanwhile
            self._on_timer_update()

    def _compositor_refresh(self) -> None:
        app = self.app
        if app._batch_count and not app.is_inline:
            self._repaint_required = True
            # the app's queue runs this after the batch
            app.call_later(self._paint_after_startup)
            return
        compositor = self._compositor
        whole = compositor.size.region in compositor._dirty_regions
        super()._compositor_refresh()
        if whole and self is app.screen:
            # the whole screen was just painted (after a layout): the repaint asked for in the
            # batch is done, and the screen is not painted a second time
            self._repaint_required = False
