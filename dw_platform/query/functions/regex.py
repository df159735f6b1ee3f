"""Trino's regular expression functions (functions/regexp.md): Java patterns written as literals,
translated to RE2's (query/regex.py), refused where the two differ on the input."""

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.functions.arrays import _lambda, _lambda_text
from dw_platform.query.functions.checks import _arity, _literal_string, _str
from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed
from dw_platform.query.regex import java_regex, shape
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import QueryError, UnsupportedQuery

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

regexp = Family("regex")
# Each can refuse at run time, where Java's and RE2's matching differ on the input.
_FAILS = {"fails_at_run_time": True}


def _pattern(name: str, literal: str | None) -> tuple[str, str]:
    if literal is None:
        raise UnsupportedQuery(f"{name}() with a pattern that is not a literal")
    return java_regex(literal)


def _guarded(value: Typed, guard: str, body: str, name: str) -> str:
    if not guard:
        return body
    return (
        f"(CASE WHEN regexp_matches({value.sql}, '{guard}') THEN error('not supported by the local engine: "
        f"{name}() where Java and RE2 regular expressions differ on this input') ELSE {body} END)"
    )


@regexp.literals("regexp_like", args="varchar, pattern", returns="boolean", **_FAILS)
def _regexp_like(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_like", args, 2)
    value = _str("regexp_like", args[0])
    pattern, guard = _pattern("regexp_like", literals[1])
    return Typed(
        _guarded(value, guard, f"regexp_matches({value.sql}, '{pattern}')", "regexp_like"), tt.BOOLEAN
    )


def _group_count(pattern: str) -> int:
    return shape(pattern).groups


@regexp.literals("regexp_extract", args="varchar(n), pattern[, group bigint]", returns="varchar(n)", **_FAILS)
def _regexp_extract(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_extract", args, 2, 3)
    value = _str("regexp_extract", args[0])
    pattern, guard = _pattern("regexp_extract", literals[1])
    group = 0
    if len(args) == 3:
        if not (isinstance(args[2].sql, str) and re.fullmatch(r"\d+", args[2].sql)):
            raise UnsupportedQuery("regexp_extract() with a group that is not a literal")
        group = int(args[2].sql)
    groups = _group_count(literals[1] or "")
    if group > groups:
        raise QueryError(f"Pattern has {groups} groups. Cannot access group {group}")
    if group and ("|" in (literals[1] or "") or re.search(r"\)[?*]|\)\{0", literals[1] or "")):
        raise UnsupportedQuery("regexp_extract() of a group that may not take part in the match")
    # DuckDB gives '' where Trino gives NULL (no match): a non-empty extract is a match, so only an
    # empty one is tested again (DuckDB evaluates the repeated extract once: one regex run per row).
    extracted = f"regexp_extract({value.sql}, '{pattern}', {group})"
    matched = f"regexp_matches({value.sql}, '{pattern}')"
    body = f"(CASE WHEN {extracted} <> '' THEN {extracted} WHEN {matched} THEN '' END)"
    return Typed(_guarded(value, guard, body, "regexp_extract"), tt.varchar(value.type.length))


@regexp.literals(
    "regexp_extract_all", args="varchar(n), pattern[, group bigint]", returns="array(varchar(n))", **_FAILS
)
def _regexp_extract_all(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_extract_all", args, 2, 3)
    value = _str("regexp_extract_all", args[0])
    pattern, guard = _pattern("regexp_extract_all", literals[1])
    group = int(args[2].sql) if len(args) == 3 and re.fullmatch(r"\d+", args[2].sql) else 0
    if len(args) == 3 and not re.fullmatch(r"\d+", args[2].sql):
        raise UnsupportedQuery("regexp_extract_all() with a group that is not a literal")
    if group > _group_count(literals[1] or ""):
        raise QueryError(f"Pattern has {_group_count(literals[1] or '')} groups. Cannot access group {group}")
    if group and ("|" in (literals[1] or "") or re.search(r"\)[?*]|\)\{0", literals[1] or "")):
        raise UnsupportedQuery("regexp_extract_all() of a group that may not take part in the match")
    body = f"regexp_extract_all({value.sql}, '{pattern}', {group})"
    return Typed(_guarded(value, guard, body, "regexp_extract_all"), tt.array(tt.varchar(value.type.length)))


def _java_replacement(replacement: str, groups: int, names: dict[str, int]) -> str:
    """Trino's replacement syntax as RE2's: `$g` names the longest group number that exists
    (`$10` is group 1 then `0` with fewer than ten groups), `\\c` is a literal c."""
    out, i = [], 0
    while i < len(replacement):
        char = replacement[i]
        if char == "\\":
            if i + 1 == len(replacement):
                raise QueryError(f"Illegal replacement sequence: {replacement}")
            out.append("\\\\" if replacement[i + 1] == "\\" else replacement[i + 1])
            i += 2
        elif char == "$":
            found = re.match(r"\d+", replacement[i + 1 :])
            named = re.match(r"\{([^}]*)\}", replacement[i + 1 :])
            if named:
                if named.group(1) not in names:
                    raise QueryError(f"Illegal replacement sequence: unknown group {{ {named.group(1)} }}")
                if names[named.group(1)] > 9:
                    raise UnsupportedQuery("regexp_replace() with a reference to group 10 or above")
                out.append("\\" + str(names[named.group(1)]))
                i += 1 + len(named.group(0))
                continue
            if not found:
                raise QueryError(f"Illegal replacement sequence: {replacement}")
            digits = found.group(0)
            if int(digits[0]) > groups:
                raise QueryError(f"Illegal replacement sequence: unknown group {digits[0]}")
            used = 1
            while used < len(digits) and int(digits[: used + 1]) <= groups:
                used += 1
            group = int(digits[:used])
            if group > 9:
                raise UnsupportedQuery("regexp_replace() with a reference to group 10 or above")
            out.append("\\" + str(group))
            i += 1 + used
        else:
            out.append(char)
            i += 1
    return "".join(out).replace("'", "''")


def _regexp_replace(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_replace", args, 2, 3)
    value = _str("regexp_replace", args[0])
    pattern, guard = _pattern("regexp_replace", literals[1])
    form = shape(literals[1] or "")
    if form.may_match_empty and not form.only_empty:
        # After a non-empty match Java also replaces an empty match at the same place; RE2 does not.
        raise UnsupportedQuery("regexp_replace() with a pattern that can match both empty and non-empty text")
    n = value.type.length
    if len(args) == 3:
        if literals[2] is None:
            raise UnsupportedQuery("regexp_replace() with a replacement that is not a literal")
        replacement = _java_replacement(literals[2], form.groups, form.names)
        y = args[2].type.length
        # Trino: varchar(x + max(x * y / 2, y) * (x + 1)), its bound for any pattern.
        result = tt.varchar(
            None if n is None or y is None else min(2147483647, n + max(n * y // 2, y) * (n + 1))
        )
    else:
        replacement, result = "", tt.varchar(n)
    body = f"regexp_replace({value.sql}, '{pattern}', '{replacement}', 'g')"
    return Typed(_guarded(value, guard, body, "regexp_replace"), result)


def _regexp_replace_lambda(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    """regexp_replace(s, pattern, x -> ...): each match replaced by the lambda of its groups (x[1]
    is group 1); a NULL from the lambda makes the whole result NULL."""
    value = _str("regexp_replace", tr.expr(raw[0], scope))
    literal = _literal_string(raw[1])
    pattern, guard = _pattern("regexp_replace", literal)
    form = shape(literal or "")
    if form.may_match_empty:
        raise UnsupportedQuery("regexp_replace() with a lambda and a pattern that can match empty text")
    if "|" in (literal or "") or re.search(r"\)[?*]|\)\{0", literal or ""):
        raise UnsupportedQuery("regexp_replace() with a lambda over groups that may not take part in a match")
    names, body = _lambda(tr, raw[2], scope, [tt.array(tt.VARCHAR)])
    if not (body.type.is_string or body.type.is_unknown):
        raise QueryError(f"regexp_replace()'s lambda must return varchar, got {body.type.trino()}")
    # Between the pieces regexp_split leaves, the i-th match's groups, as regexp_extract_all finds them.
    groups = ", ".join(
        f"regexp_extract_all(__dw_s, '{pattern}', {k})[__dw_i]" for k in range(1, form.groups + 1)
    )
    x = f"[{groups}]" if groups else "CAST([] AS VARCHAR[])"
    lambda_ = _lambda_text(names, body)
    replaced = f"list_transform(range(1, len(__dw_p)), lambda __dw_i: list_transform([{x}], {lambda_})[1])"
    joined = (
        "array_to_string(list_transform(range(1, len(__dw_p)), "
        "lambda __dw_i: __dw_p[__dw_i] || __dw_r[__dw_i]), '') || __dw_p[len(__dw_p)]"
    )
    text = (
        f"list_transform([{value.sql}], lambda __dw_s: "
        f"list_transform([regexp_split_to_array(__dw_s, '{pattern}')], "
        f"lambda __dw_p: list_transform([{replaced}], lambda __dw_r: CASE WHEN __dw_s IS NULL OR "
        f"list_bool_or(list_transform(__dw_r, lambda __dw_v: __dw_v IS NULL)) THEN NULL ELSE {joined} "
        "END)[1])[1])[1]"
    )
    return Typed(_guarded(value, guard, text, "regexp_replace"), tt.VARCHAR)


@regexp.literals("regexp_split", args="varchar(n), pattern", returns="array(varchar(n))", **_FAILS)
def _regexp_split(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_split", args, 2)
    value = _str("regexp_split", args[0])
    pattern, guard = _pattern("regexp_split", literals[1])
    if literals[1] == "":
        # Java splits around every empty match: an empty piece first and last, one per character between.
        pieces = f"CASE WHEN ({value.sql}) = '' THEN [] ELSE string_split({value.sql}, '') END"
        body = f"list_concat([''], {pieces}, [''])"
        body = f"(CASE WHEN ({value.sql}) IS NULL THEN NULL ELSE {body} END)"
    elif shape(literals[1] or "").may_match_empty:
        raise UnsupportedQuery("regexp_split() with a pattern that can match empty text")
    else:
        body = f"regexp_split_to_array({value.sql}, '{pattern}')"
    return Typed(_guarded(value, guard, body, "regexp_split"), tt.array(tt.varchar(value.type.length)))


@regexp.literals("regexp_count", args="varchar, pattern", returns="bigint", **_FAILS)
def _regexp_count(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_count", args, 2)
    value = _str("regexp_count", args[0])
    pattern, guard = _pattern("regexp_count", literals[1])
    body = f"CAST(len(regexp_extract_all({value.sql}, '{pattern}')) AS BIGINT)"
    return Typed(_guarded(value, guard, body, "regexp_count"), tt.BIGINT)


@regexp.raw(
    "regexp_replace",
    args="varchar(x), pattern[, replacement varchar(y) | function(array(varchar), varchar)]",
    returns="varchar(x) | varchar(x + max(x * y / 2, y) * (x + 1)) | varchar",
    **_FAILS,
)
def _regexp_replace_call(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    if len(raw) == 3 and isinstance(raw[2], exp.Lambda):
        return _regexp_replace_lambda(tr, raw, scope)
    literals = [_literal_string(a) for a in raw]
    return _regexp_replace([tr.expr(a, scope) for a in raw], literals)
