"""Trino's luhn_check and url_extract_parameter as DuckDB text.

url_extract_parameter reads the query of a URL as java.net.URI does only for URLs of plain URI
characters whose value needs no decoding; any other input is refused while the query runs.
"""

from dw_platform.query import trino_types as tt
from dw_platform.query.functions.checks import _arity, _str
from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed

strings = Family("strings")

_REFUSE = "error('not supported by the local engine: {}')"
# Characters java.net.URI accepts unescaped (its query and fragment grammar) plus escapes.
_URI_TEXT = r"[A-Za-z0-9\-._~:/?#\[\]@!$&''()*+,;=%]*"


@strings.scalar("luhn_check", args="varchar", returns="boolean")
def _luhn_check(args: list[Typed]) -> Typed:
    _arity("luhn_check", args, 1)
    value = _str("luhn_check", args[0])
    digit = "CAST(substr(__dw_s, length(__dw_s) - __dw_i + 1, 1) AS INTEGER)"
    doubled = f"(CASE WHEN 2 * {digit} > 9 THEN 2 * {digit} - 9 ELSE 2 * {digit} END)"
    weighted = f"CASE WHEN __dw_i % 2 = 0 THEN {doubled} ELSE {digit} END"
    text = (
        f"list_transform([{value.sql}], lambda __dw_s: CASE WHEN __dw_s IS NULL THEN NULL "
        "WHEN __dw_s = '' THEN false "
        "WHEN NOT regexp_full_match(__dw_s, '[0-9]+') THEN "
        "CAST(dw_fail('Input contains characters that are not digits') AS BOOLEAN) "
        "ELSE list_sum(list_transform(range(1, length(__dw_s) + 1), "
        f"lambda __dw_i: {weighted})) % 10 = 0 END)[1]"
    )
    return Typed(text, tt.BOOLEAN)


@Family("url").scalar("url_extract_parameter", args="url varchar, name varchar", returns="varchar")
def _url_extract_parameter(args: list[Typed]) -> Typed:
    _arity("url_extract_parameter", args, 2)
    url, name = _str("url_extract_parameter", args[0]), _str("url_extract_parameter", args[1])
    refuse = _REFUSE.format("url_extract_parameter() of a URL or value that needs decoding")
    # The first `name` or `name=value` argument of the query (between ? and #).
    pairs = "list_transform(string_split(regexp_extract(__dw_u, '\\?([^#]*)', 1), '&'), lambda __dw_p: "
    pairs += "{'k': split_part(__dw_p, '=', 1), 'v': CASE WHEN contains(__dw_p, '=') "
    pairs += "THEN substr(__dw_p, strpos(__dw_p, '=') + 1) ELSE '' END})"
    text = (
        f"list_transform([{{'u': {url.sql}, 'n': {name.sql}}}], lambda __dw_a: "
        "list_transform([__dw_a.u], lambda __dw_u: CASE WHEN __dw_u IS NULL OR __dw_a.n IS NULL THEN NULL "
        f"WHEN NOT regexp_full_match(__dw_u, '{_URI_TEXT}') THEN {refuse} "
        "WHEN NOT contains(__dw_u, '?') THEN NULL "
        f"ELSE list_transform([list_filter({pairs}, lambda __dw_q: __dw_q.k = __dw_a.n)], lambda __dw_m: "
        f"CASE WHEN len(__dw_m) = 0 THEN NULL WHEN regexp_matches(__dw_m[1].v, '[%+]') THEN {refuse} "
        "ELSE __dw_m[1].v END)[1] END)[1])[1]"
    )
    return Typed(text, tt.varchar(url.type.length))


# Apache commons-codec's US English Soundex (Trino's): the digit of each letter A..Z.
_SOUNDEX = "'01230120022455012623010202'"


@strings.scalar("soundex", args="varchar", returns="varchar(4)")
def _soundex(args: list[Typed]) -> Typed:
    _arity("soundex", args, 1)
    value = _str("soundex", args[0])
    digit = f"substr({_SOUNDEX}, ascii({{c}}) - 64, 1)"
    # After the first letter: H and W are skipped; a digit is kept unless it is 0 (a vowel) or
    # repeats the previous letter's.
    step = (
        "CASE WHEN __dw_c IN ('H', 'W') THEN __dw_a "
        f"ELSE {{'o': __dw_a.o || CASE WHEN {digit.format(c='__dw_c')} <> '0' "
        f"AND {digit.format(c='__dw_c')} <> __dw_a.l THEN {digit.format(c='__dw_c')} ELSE '' END, "
        f"'l': {digit.format(c='__dw_c')}}} END"
    )
    text = (
        f"list_transform([upper(regexp_replace({value.sql}, '[^\\p{{L}}]', '', 'g'))], lambda __dw_s: "
        "CASE WHEN __dw_s IS NULL THEN NULL WHEN __dw_s = '' THEN '' "
        "WHEN regexp_matches(__dw_s, '[^A-Z]') THEN "
        f"{_REFUSE.format('soundex() of letters other than A to Z')} "
        "ELSE left(rpad(list_reduce(string_split(substr(__dw_s, 2), ''), lambda __dw_a, __dw_c: "
        f"{step}, {{'o': __dw_s[1], 'l': {digit.format(c='__dw_s[1]')}}}).o, 4, '0'), 4) END)[1]"
    )
    return Typed(text, tt.varchar(4))


def _split_entries(name: str, args: list[Typed]) -> tuple[str, str]:
    """(entries as a list of {'k', 'v'} structs, the checks' failure or '') for split_to_map and
    split_to_multimap: each entry must hold the key-value delimiter exactly once, as in Trino."""
    _arity(name, args, 3)
    text, entry, pair = (_str(name, a).sql for a in args)
    fail = "dw_fail_text('{}')"
    checks = (
        f"CASE WHEN ({entry}) = '' THEN {fail.format('entryDelimiter is empty')} "
        f"WHEN ({pair}) = '' THEN {fail.format('keyValueDelimiter is empty')} "
        f"WHEN ({entry}) = ({pair}) THEN "
        f"{fail.format('entryDelimiter and keyValueDelimiter must not be the same')} "
        "END"
    )
    # string_split leaves an empty last entry after a trailing delimiter, which Trino does not read.
    entries = (
        f"list_transform([CASE WHEN ({text}) = '' THEN [] WHEN ends_with({text}, {entry}) "
        f"THEN string_split({text}, {entry})[1:-2] ELSE string_split({text}, {entry}) END], lambda __dw_l: "
        f"list_transform(__dw_l, lambda __dw_e: CASE WHEN len(string_split(__dw_e, {pair})) <> 2 THEN "
        "{'k': dw_fail_text('Key-value delimiter must appear exactly once in each entry. Bad input: ''' "
        f"|| __dw_e || ''''), 'v': NULL}} ELSE {{'k': string_split(__dw_e, {pair})[1], "
        f"'v': string_split(__dw_e, {pair})[2]}} END))[1]"
    )
    return entries, checks


@strings.scalar(
    "split_to_map",
    args="varchar, entry_delimiter varchar, key_value_delimiter varchar",
    returns="map(varchar, varchar)",
)
def _split_to_map(args: list[Typed]) -> Typed:
    entries, checks = _split_entries("split_to_map", args)
    text = (
        f"list_transform([{entries}], lambda __dw_m: CASE WHEN {checks} IS NOT NULL THEN NULL "
        "WHEN len(list_distinct(list_transform(__dw_m, lambda __dw_p: __dw_p.k))) < len(__dw_m) THEN "
        "map(CAST(dw_fail_text('Duplicate keys are not allowed') AS VARCHAR[]), CAST([] AS VARCHAR[])) "
        "ELSE map(list_transform(__dw_m, lambda __dw_p: __dw_p.k), "
        "list_transform(__dw_m, lambda __dw_p: __dw_p.v)) "
        "END)[1]"
    )
    return Typed(text, tt.map_of(tt.VARCHAR, tt.VARCHAR))


@strings.scalar(
    "split_to_multimap",
    args="varchar, entry_delimiter varchar, key_value_delimiter varchar",
    returns="map(varchar, array(varchar))",
)
def _split_to_multimap(args: list[Typed]) -> Typed:
    entries, checks = _split_entries("split_to_multimap", args)
    # Each key once, in order of first appearance, with all its values in order.
    keys = (
        "list_transform(list_filter(range(1, len(__dw_m) + 1), lambda __dw_i: NOT list_contains("
        "list_transform(__dw_m[1:__dw_i - 1], lambda __dw_p: __dw_p.k), __dw_m[__dw_i].k)), "
        "lambda __dw_i: __dw_m[__dw_i].k)"
    )
    values = (
        "list_transform(__dw_ks, lambda __dw_k: list_transform(list_filter(__dw_m, "
        "lambda __dw_p: __dw_p.k = __dw_k), lambda __dw_p: __dw_p.v))"
    )
    text = (
        f"list_transform([{entries}], lambda __dw_m: CASE WHEN {checks} IS NOT NULL THEN NULL "
        f"ELSE list_transform([{keys}], lambda __dw_ks: map(__dw_ks, {values}))[1] END)[1]"
    )
    return Typed(text, tt.map_of(tt.VARCHAR, tt.array(tt.VARCHAR)))
