"""Every character the TUI draws that is not ASCII, and what `--ascii` draws in its place.

`--ascii` means: only ASCII on the lesson screens, box lines, bullets, markers, arrows and
math signs included (a terminal or font without them shows the same screen). Greek letters
go too: α is written `lr`, the name the lesson files and the command line give it.

For a widget that draws its own text:

    from .glyphs import shown
    text = shown(self, "✓ w3 = 7/4 → next")     # as is, or "ok w3 = 7/4 -> next" under --ascii

`shown(widget_or_app, text)` reads the app's `ascii_plot` flag; `to_ascii(text)` always
translates. Text from a lesson (titles, node names) goes through the same function: what is
not in TABLE and not ASCII (CJK text of --lang zh) is left as it is. Textual's own borders are
switched to ASCII styles in app.tcss under the App's `-ascii` class.
"""
from __future__ import annotations

TABLE = {
    # marks and state
    "✓": "ok", "✗": "x", "▶": ">", "●": "@", "•": "*", "◆": "*", "…": "...",
    # arrows
    "→": "->", "←": "<-", "↔": "<->", "↑": "^", "↓": "v",
    # math
    "≈": "~", "−": "-", "·": "*", "×": "x", "÷": "/", "≠": "!=", "≤": "<=", "≥": ">=",
    "∂": "d", "Σ": "sum", "²": "^2", "³": "^3", "√": "sqrt", "∞": "inf", "α": "lr",
    "–": "-", "—": "--",
    # subscripts
    "₍": "(", "₎": ")", "ₖ": "k", "₋": "-", "₊": "+", "ᵀ": "^T", "ŵ": "w^", "ŷ": "y^",
    **{chr(0x2080 + d): str(d) for d in range(10)},
    # box drawing and blocks (plot frames, rules, scrollbars)
    "─": "-", "━": "-", "│": "|", "┃": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+",
    "├": "+", "┤": "+", "┬": "+", "┴": "+", "┼": "+", "╭": "+", "╮": "+", "╰": "+",
    "╯": "+", "▁": "_", "▎": "|", "▏": "|", "▕": "|", "█": "#", "▔": "-",
}
_TRANSLATION = str.maketrans(TABLE)
_NEEDED = frozenset(TABLE)


def to_ascii(text: str) -> str:
    """`text` with every glyph of TABLE written in ASCII."""
    if text.isascii() or _NEEDED.isdisjoint(text):
        return text
    return text.translate(_TRANSLATION)


def ascii_on(node) -> bool:
    """Whether the app of `node` (a widget, a screen or the app) draws only ASCII."""
    if hasattr(node, "ascii_plot"):
        return bool(node.ascii_plot)
    try:
        app = node.app
    except Exception:      # not in a running app: drawn as is
        return False
    return bool(getattr(app, "ascii_plot", False))


def shown(node, text: str) -> str:
    """`text` as the app of `node` draws it: as is, or in ASCII under --ascii."""
    return to_ascii(text) if ascii_on(node) else text


def ascii_binding(binding):
    """A Textual Binding as the footer and the help show it under --ascii."""
    from dataclasses import replace
    group = binding.group
    if group is not None:
        group = replace(group, description=to_ascii(group.description))
    return replace(binding, description=to_ascii(binding.description), group=group,
                   key_display=to_ascii(binding.key_display) if binding.key_display else None,
                   tooltip=to_ascii(binding.tooltip))


def ascii_scrollbars(on: bool) -> None:
    """Textual's scrollbars drawn without block glyphs (their thumb by colour alone), or as
    Textual draws them. Textual keeps one renderer for the process: the app sets it when it
    starts under --ascii and puts Textual's back when it ends."""
    from textual.scrollbar import ScrollBar, ScrollBarRender

    class AsciiScrollBarRender(ScrollBarRender):
        VERTICAL_BARS = [" "] * 8
        HORIZONTAL_BARS = [" "] * 8

    ScrollBar.renderer = AsciiScrollBarRender if on else ScrollBarRender
