"""What a terminal shows after a program wrote ``text`` to it: the rows, as a person would read them.

Carriage returns, line feeds (a terminal's ``onlcr``: a new row at column 0), erasing to the end of the
line (``ESC [ K``) and moving up (``ESC [ A``) are followed; other escape sequences are dropped. Tests
of progress assert on this rather than on bytes, so they say what they mean: a message starts on a row
of its own, a row fits the width, nothing of the bar is left behind.
"""

import re
from typing import List

_ESCAPE = re.compile(r"\x1b\[(\d*)([A-Za-z])")


def screen(text: str) -> List[str]:
    """The rows ``text`` leaves on a terminal, without trailing blanks (an empty last row is dropped)."""
    rows: List[List[str]] = [[]]
    row = col = 0
    pos = 0
    while pos < len(text):
        match = _ESCAPE.match(text, pos)
        if match:
            count, code = int(match.group(1) or 1), match.group(2)
            if code == "K":
                del rows[row][col:]
            elif code == "A":
                row = max(row - count, 0)
            pos = match.end()
            continue
        char = text[pos]
        pos += 1
        if char == "\r":
            col = 0
        elif char == "\n":
            row, col = row + 1, 0
            if row == len(rows):
                rows.append([])
        else:
            line = rows[row]
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = char
            else:
                line.append(char)
            col += 1
    lines = ["".join(line).rstrip() for line in rows]
    return lines[:-1] if lines and not lines[-1] else lines
