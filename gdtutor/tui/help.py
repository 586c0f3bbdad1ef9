"""The `?` screen: every key of the screen below it, with what it does."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..i18n import N_, _
from .glyphs import shown


class HelpScreen(ModalScreen[None]):
    """A table of keys; escape, ? or q closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "close", N_("close"), key_display="esc")]

    def __init__(self, keys: list[tuple[str, str]], title: str) -> None:
        """`keys`: (the keys, what they do), one row each."""
        super().__init__()
        self.key_rows = keys
        self.title_text = title

    def compose(self) -> ComposeResult:
        table = Table(title=Text(shown(self.app, self.title_text)), show_header=True,
                      expand=True, box=None, title_style="bold")
        table.add_column(_("key"), style="bold", no_wrap=True)
        table.add_column(_("does"), overflow="fold")    # Chinese has no spaces to wrap at
        for keys, does in self.key_rows:
            table.add_row(Text(shown(self.app, keys)), Text(shown(self.app, does)))
        table.add_row("", "")
        table.add_row("esc ? q", _("close this help"))
        with VerticalScroll(id="help-box"):
            yield Static(table, id="help-table")

    def action_close(self) -> None:
        if self.is_active:     # closed once, however fast the keys come
            self.dismiss(None)
