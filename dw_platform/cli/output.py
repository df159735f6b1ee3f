"""How `dw` prints: counts with their nouns, tables of integers with blanks for what is unknown, and
progress bars on a terminal only. Imports nothing heavy (the CLI's start-up)."""

import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

# Nouns whose plural is not the noun + "s".
_PLURALS = {"entry": "entries", "was": "were"}


# Characters a terminal acts on rather than shows, in text a producer or a query chose: C0 and C1
# controls and DEL (ESC starts sequences that retitle or clear a terminal, a newline forges a line),
# and the bidirectional and line-separator marks that reorder or break what is shown.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every character a terminal would act on written as an escape (`\\n`, `\\x1b`,
    `\\u202e`), so a value shows as itself on one line and cannot drive the terminal."""
    return _UNPRINTABLE.sub(
        lambda m: (
            _NAMED_ESCAPES.get(m.group())
            or (f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}")
        ),
        text,
    )


def plural(count: int, noun: str) -> str:
    """`1 object`, `2 objects`, `1,000 events`."""
    return f"{count:,} {noun if count == 1 else _PLURALS.get(noun, noun + 's')}"


def cell(value: Any) -> str:
    """A value as a table shows it: integers without a fraction, unknowns (None) blank, booleans as
    yes / no, rates as percentages."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.2%}"
    return printable(str(value))


def format_table(rows: Sequence[Mapping[str, Any]], headers: Mapping[str, str] | None = None) -> str:
    """Rows of one shape as aligned columns under their names: text left, numbers right."""
    if not rows:
        return "(no rows)"
    names = list(rows[0])
    titles = [(headers or {}).get(n, n) for n in names]
    cells = [[cell(row[n]) for n in names] for row in rows]
    numeric = [all(isinstance(row[n], int | float) or row[n] is None for row in rows) for n in names]
    widths = [max(len(t), *(len(r[i]) for r in cells)) for i, t in enumerate(titles)]

    def line(values: Sequence[str]) -> str:
        justified = (
            v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric, strict=True)
        )
        return "  ".join(justified).rstrip()

    return "\n".join([line(titles), *(line(r) for r in cells)])


def progress(total: int | None, unit: str, *, enabled: bool = True, desc: str | None = None) -> "tqdm":
    """A progress bar on stderr when it is a terminal (never in --json mode: pass enabled=False);
    off a terminal a disabled bar whose update() does nothing."""
    from tqdm import tqdm

    shown = enabled and sys.stderr.isatty()
    return tqdm(total=total, unit=unit, desc=desc, disable=not shown, file=sys.stderr, leave=False)
