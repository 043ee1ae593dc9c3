"""Text that fits a normal terminal: every line the demo prints is at most ``WIDTH`` columns.

Prose is word-wrapped; machine text that must stay exact (a JSON body as ServiceNow
received it) is folded as RFC 8792 does ("single backslash" strategy): a line ending in
``\\`` continues on the next one, whose leading spaces are not part of the text, so the
original comes back with ``unfold``.
"""

from __future__ import annotations

import textwrap

WIDTH = 100
RFC8792_NOTE = (
    "(folded as RFC 8792 does: a line ending in \\ goes on at the next one's first non-space)"
)


def wrap(text: str, indent: str = "", hang: str = "  ", width: int = WIDTH) -> list[str]:
    """``text`` word-wrapped; continuation lines indented by ``indent + hang``."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lead = indent + paragraph[: len(paragraph) - len(paragraph.lstrip(" "))]
        lines += textwrap.wrap(
            paragraph.strip(),
            width=width,
            initial_indent=lead,
            subsequent_indent=lead + hang,
            break_long_words=True,
            break_on_hyphens=False,
        ) or [lead.rstrip()]
    return lines


def table(rows: list[list[str]], indent: str = "") -> list[str]:
    """A header row, a rule, the rows; columns as wide as their widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row))
        lines.append((indent + cells).rstrip())
        if n == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return lines


def fold(text: str, indent: str = "", width: int = WIDTH) -> list[str]:
    """``text`` (lines of exact content) indented and folded so no line passes ``width``."""
    room = width - len(indent) - 1  # one column for the backslash
    folded: list[str] = []
    for original in text.splitlines():
        if original.endswith("\\"):
            raise ValueError("a line ending in a backslash cannot be folded unambiguously")
        line = original
        own_indent = line[: len(line) - len(line.lstrip(" "))]
        kept = 0  # the continuation's own indent, not part of the text
        while len(indent) + len(line) > width:
            cut = _cut(line, room, kept)
            if cut <= kept + 1:
                raise ValueError("too little room to fold")
            folded.append(indent + line[:cut] + "\\")
            line = own_indent + "  " + line[cut:]
            kept = len(own_indent) + 2
        folded.append(indent + line)
    return folded


def _cut(line: str, room: int, kept: int) -> int:
    """Where to fold: after a comma or a space when one is near, never before a space
    (unfold drops a continuation's leading spaces)."""
    for cut in range(room, max(kept + 1, room - 24), -1):
        if line[cut - 1] in ", " and line[cut] != " ":
            return cut
    cut = room
    while cut > kept + 1 and line[cut] == " ":
        cut -= 1
    return cut


def unfold(lines: list[str], indent: str = "") -> str:
    """The exact text ``fold`` was given."""
    out: list[str] = []
    joining = False
    for shown in lines:
        line = shown.removeprefix(indent)
        if joining:
            out[-1] += line.lstrip(" ")
        else:
            out.append(line)
        joining = out[-1].endswith("\\")
        if joining:
            out[-1] = out[-1][:-1]
    return "\n".join(out)
