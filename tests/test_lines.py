"""Folding styled lines to a width (tui/lines.py): nothing is lost, no line is wider than the
width (a space a line ends on is not drawn), and every character keeps its style."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from gdtutor.tui.lines import Writer, fold, plain

runs = st.lists(st.tuples(st.text(alphabet="ab c−α·中=[]-0123", max_size=12),
                          st.sampled_from(["", "bold", "dim", "bold reverse"])), max_size=6)


def styled_chars(line) -> list[tuple[str, str]]:
    return [(c, style) for text, style in line for c in text]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(runs, st.integers(min_value=1, max_value=30))
def test_folding_keeps_every_character_and_its_style_within_the_width(line, width):
    rows = fold(line, width)
    assert sum((styled_chars(r) for r in rows), []) == styled_chars(line)
    for row in rows:
        shown = plain(row).rstrip(" ")
        assert cell_len(shown) <= width or len(shown) == 1   # a character wider than the width
                                                              # gets a line of its own
    assert all(row for row in rows) or len(rows) == 1


def test_folding_cuts_at_the_last_space_that_fits():
    line = [("grad = ", ""), ("[-0.9029, -1.767]", "bold")]
    assert [plain(r) for r in fold(line, 16)] == ["grad = [-0.9029, ", "-1.767]"]
    assert fold(line, 16)[1] == [("-1.767]", "bold")]


def test_a_writer_starts_a_line_at_each_newline_and_keeps_styles():
    text = Writer().add("Step 1", "bold").add("\n1 grad = ").add("-2\n", "bold").add("  L = 7")
    assert text.lines == [[("Step 1", "bold")], [("1 grad = ", ""), ("-2", "bold")],
                          [("  L = 7", "")]]
