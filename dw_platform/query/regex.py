"""Java regular expressions (Trino's) as RE2 patterns (DuckDB's), or a refusal.

The two agree on literals, classes of ASCII characters, anchors and quantifiers. Where they can
differ on some inputs (line terminators other than \\n, non-ASCII letters in \\w or \\b, Unicode
case folding) the translation returns a guard: a pattern of inputs on which the query raises a
refusal instead of answering.
"""

import re

from dw_platform.query.sql import QueryError, UnsupportedQuery

_UNSUPPORTED = [
    (r"\(\?[=!<]", "lookaround"),
    (r"\\[1-9]", "back-references"),
    (r"\(\?<[A-Za-z]", "named groups"),
    (r"[*+?}][+]", "possessive quantifiers"),
    (r"\\[QEGZhHvVRXkK]", "this escape"),
    (r"\(\?[a-z]*[dux]", "this flag"),
]
_LINE_TERMINATORS = r"[\r\x{85}\x{2028}\x{2029}]"
_NON_ASCII = r"[^\x00-\x7F]"


def java_regex(pattern: str) -> tuple[str, str]:
    """(RE2 pattern for DuckDB as an SQL string body, guard pattern or '')."""
    for found, feature in _UNSUPPORTED:
        if re.search(found, pattern):
            raise UnsupportedQuery(f"regular expressions with {feature} ({pattern!r})")
    try:
        re.compile(pattern)
    except re.error as error:
        raise QueryError(f"invalid regular expression {pattern!r}: {error}") from None
    guards = []
    if "." in pattern or "$" in pattern or "(?m" in pattern or "(?s" in pattern:
        guards.append(_LINE_TERMINATORS)
    if "$" in pattern:
        guards.append(r"\n\z")  # Java's $ also matches before a final line terminator
    if re.search(r"\\[wWbBdDsSp]|\(\?[a-z]*i|\[\[:", pattern):
        guards.append(_NON_ASCII)
    if re.search(r"\\[sS]", pattern):
        guards.append(r"\x0B")  # Java's \s includes the vertical tab; RE2's does not
    guard = "|".join(guards)
    return pattern.replace("'", "''"), guard.replace("'", "''")
