"""The keys line at the bottom: Textual's compact Footer, drawn by one widget.

Textual's Footer is a container of one widget per key (some twenty here, each styled, laid out
and rendered on its own), and it fills itself in only after its screen's first refresh: a
second frame, and the largest part of the time to the first one. This widget draws the same
line, cell for cell and colour for colour (tests/test_tui_lazy.py compares the two), in the
screen's first frame, and does what a key of the Footer does: a click presses the key (a
disabled one rings the bell), the pointer over a key highlights it and shows its tooltip.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from typing import NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.color import Color
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget


class Item(NamedTuple):
    """One thing on the line: a key with its description, a key of a group, or a group's name."""

    text: str
    key: str | None = None          # the key a click presses (None: a group's name)
    described: str = ""             # the description after the key
    enabled: bool = True
    tooltip: str | None = None
    grouped: bool = False           # a key of a group: no blank between it and the next key


class KeysFooter(Widget, can_focus=False):
    """The screen's shown key bindings, as `Footer(compact=True)` shows them."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keys-footer--key", "keys-footer--description",
                         "keys-footer--label", "keys-footer--hover"}
    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .keys-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keys-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .keys-footer--label {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .keys-footer--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
    }
    """

    def __init__(self, *, compact: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.compact = compact        # only the compact look is drawn
        self._items: list[Item] | None = None
        self._spans: list[tuple[int, int, Item]] = []   # (start, end, item) of each item
        self._hover: int | None = None                   # index into _spans

    # -- what is shown --------------------------------------------------------------------

    def items(self) -> list[Item]:
        """The items, grouped as Textual's Footer groups them: one per action, a binding group
        of several actions as its keys side by side and then its name."""
        app = self.app
        by_action: defaultdict[str, list] = defaultdict(list)
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show:
                by_action[binding.action].append((binding, enabled, tooltip))
        items: list[Item] = []
        for group, runs in groupby(by_action.values(), lambda run: run[0][0].group):
            runs = list(runs)
            if group is not None and len(runs) > 1:
                for binding, enabled, tooltip in (run[0] for run in runs):
                    items.append(Item(app.get_key_display(binding), binding.key, "", enabled,
                                      tooltip or binding.description, grouped=True))
                items.append(Item(group.description))
            else:
                for binding, enabled, tooltip in (run[0] for run in runs):
                    items.append(Item(app.get_key_display(binding), binding.key,
                                      binding.description, enabled, tooltip or None))
        return items

    def _layout(self, items: list[Item]) -> list[tuple[int, int, Item]]:
        """Where each item goes: one blank between items, none between a group's keys."""
        spans, x = [], 0
        previous: Item | None = None
        for item in items:
            if previous is not None and not (item.grouped and previous.grouped):
                x += 1
            width = cell_len(item.text) + (1 + cell_len(item.described) if item.described
                                           else 0)
            spans.append((x, x + width, item))
            x += width
            previous = item
        return spans

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        blank = Style(bgcolor=base.bgcolor)     # between items: the footer's background only
        if y != 0:
            return Strip.blank(width, blank)
        if self._items is None:
            self._refresh_items()
        key_style = self.get_component_rich_style("keys-footer--key")
        description_style = self.get_component_rich_style("keys-footer--description")
        label_style = self.get_component_rich_style("keys-footer--label")
        hover = self.get_component_styles("keys-footer--hover")
        segments: list[Segment] = []
        x = 0
        for index, (start, end, item) in enumerate(self._spans):
            if start > x:
                segments.append(Segment(" " * (start - x), blank))
            if item.key is None:
                segments.append(Segment(item.text, base + label_style))
            else:
                cell, key, described = base, key_style, description_style
                if index == self._hover:     # the hover background, and the parts over it
                    bg = Color.from_rich_color(base.bgcolor) + hover.background
                    cell += Style(color=hover.color.rich_color, bgcolor=bg.rich_color)
                    key, described = (self._over(name, bg) for name in
                                      ("keys-footer--key", "keys-footer--description"))
                if not item.enabled:
                    cell += Style(dim=True)
                segments.append(Segment(item.text, cell + key))
                if item.described:
                    segments.append(Segment(" " + item.described, cell + described))
            x = end
        return Strip(segments).extend_cell_length(width, blank).crop(0, width)

    def _over(self, name: str, background: Color) -> Style:
        """A component's style drawn over `background` (as over a hovered key)."""
        styles = self.get_component_styles(name)
        return self.get_component_rich_style(name, partial=True) + Style(
            bgcolor=(background + styles.background).rich_color)

    # -- keeping up with the bindings -------------------------------------------------------

    def _refresh_items(self) -> bool:
        """Read the bindings again; True if what the line shows has changed."""
        items = self.items()
        if items == self._items:
            return False
        self._items = items
        self._spans = self._layout(items)
        if self._hover is not None:
            self._set_hover(None)
        return True

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self._refresh_items():
            self.refresh()

    # -- the pointer -------------------------------------------------------------------------

    def _at(self, x: int) -> int | None:
        for index, (start, end, item) in enumerate(self._spans):
            if start <= x < end and item.key is not None:
                return index
        return None

    def _set_hover(self, index: int | None) -> None:
        if index == self._hover:
            return
        self._hover = index
        self.tooltip = self._spans[index][2].tooltip if index is not None else None
        self.styles.pointer = "pointer" if index is not None else "default"   # as FooterKey
        self.screen.update_pointer_shape()
        self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self._at(event.x)
        if index is None:
            return
        item = self._spans[index][2]
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()
