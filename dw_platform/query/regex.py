"""Java regular expressions (Trino's) as RE2 patterns (DuckDB's), or a refusal.

The two agree on literals, classes of ASCII characters, anchors and quantifiers. Where they can
differ on some inputs (line terminators other than \\n, non-ASCII letters in \\w or \\b, Unicode
case folding) the translation returns a guard: a pattern of inputs on which the query raises a
refusal instead of answering.
"""

import dataclasses
import re

from dw_platform.query.sql import QueryError, UnsupportedQuery

_UNSUPPORTED = [
    (r"\(\?(?:[=!]|<[=!])", "lookaround"),
    (r"\\[1-9]", "back-references"),
    (r"\\k<", "named back-references"),
    (r"[*+?}][+]", "possessive quantifiers"),
    (r"\\[QEGZhHvVRXkK]", "this escape"),
    (r"\(\?[a-zA-Z]*[duxU]", "this flag"),
]
# Python's own parser (re's) reads the Java syntax the translation accepts; it gives the group count
# and the widths a pattern's matches can have.
_INLINE_FLAGS = re.compile(r"(?<!\\)\(\?[a-zA-Z]+\)")
# Java's named group (?<name>...) is (?P<name>...) in RE2 and Python.
_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<([A-Za-z][A-Za-z0-9]*)>")
# Python's messages for patterns Java rejects too; any other complaint may be Java syntax Python lacks.
_INVALID_IN_JAVA = (
    "unbalanced parenthesis",
    "missing )",
    "nothing to repeat",
    "unterminated",
    "multiple repeat",
)


@dataclasses.dataclass(frozen=True)
class Shape:
    groups: int  # capturing groups
    may_match_empty: bool  # some match can be the empty string
    only_empty: bool  # every match is the empty string
    names: dict[str, int] = dataclasses.field(default_factory=dict)  # named groups' numbers


_LINE_TERMINATORS = r"[\r\x{85}\x{2028}\x{2029}]"
_NON_ASCII = r"[^\x00-\x7F]"


def java_regex(pattern: str) -> tuple[str, str]:
    """(RE2 pattern for DuckDB as an SQL string body, guard pattern or '')."""
    for found, feature in _UNSUPPORTED:
        if re.search(found, pattern):
            raise UnsupportedQuery(f"regular expressions with {feature} ({pattern!r})")
    shape(pattern)
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
    re2 = _NAMED_GROUP.sub(r"(?P<\1>", pattern)
    return re2.replace("'", "''"), guard.replace("'", "''")


def shape(pattern: str) -> Shape:
    """The pattern's groups and match widths; a clear error if the pattern is invalid."""
    # Java applies an inline flag group such as (?i) from where it stands, as RE2 does; Python only
    # accepts one at the start, so the check reads it as an empty group.
    python_form = _NAMED_GROUP.sub(r"(?P<\1>", _INLINE_FLAGS.sub("(?:)", pattern))
    try:
        parsed = re._parser.parse(python_form)  # the stdlib parser: group count, widths
    except re.error as error:
        if any(message in str(error) for message in _INVALID_IN_JAVA):
            raise QueryError(f"invalid regular expression {pattern!r}: {error}") from None
        raise UnsupportedQuery(f"this regular expression syntax ({pattern!r}: {error})") from None
    low, high = parsed.getwidth()
    return Shape(
        groups=parsed.state.groups - 1,
        may_match_empty=low == 0,
        only_empty=high == 0,
        names=dict(parsed.state.groupdict),
    )
