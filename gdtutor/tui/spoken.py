"""Keys said in the student's language: a binding's description, tooltip and group, translated
when the footer or the help screen reads them (the language is set when the app starts, after
the classes that list the bindings are made).

A screen's BINDINGS mark their words with `N_`; `said_bindings(screen.active_bindings)` is
what the screen gives Textual's Footer and the `?` screen.
"""
from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding

from ..i18n import _


def said(text: str | None) -> str:
    """`text` in the current language ("" stays "")."""
    return _(text) if text else (text or "")


def said_binding(binding: Binding) -> Binding:
    """`binding` with its description, tooltip and group's description translated."""
    group = binding.group
    if group is not None:
        group = replace(group, description=said(group.description))
    return replace(binding, description=said(binding.description),
                   tooltip=said(binding.tooltip), group=group)


def said_bindings(found: dict) -> dict:
    """A screen's active bindings (Textual's `active_bindings`) with their words translated:
    the footer shows each binding's description, the `?` screen its tooltip."""
    return {key: active._replace(binding=said_binding(active.binding),
                                 tooltip=said(active.tooltip))
            for key, active in found.items()}
