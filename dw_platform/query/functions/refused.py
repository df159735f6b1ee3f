"""Functions of Trino's docs that the local engine refuses by name, and why (the refusal itself
reads "not supported by the local engine: the function NAME()")."""

from dw_platform.query.functions.registry import Family

_NOT_YET = "not translated by the local engine yet (Athena runs it)"
_HASH = "a hash DuckDB does not compute"
_DISTRIBUTION = "a statistical distribution DuckDB does not compute to Trino's precision"

# name: (family, argument types, return type, why it is refused)
_REFUSED = {
    # aggregates
    "bitwise_and_agg": ("aggregates", "bigint", "bigint", _NOT_YET),
    "map_union": ("aggregates", "map(K, V)", "map(K, V)", "which value a repeated key keeps is unspecified"),
    "multimap_agg": ("aggregates", "key K, value V", "map(K, array(V))", _NOT_YET),
    "reduce_agg": ("aggregates", "x T, initial S, input function, combine function", "S", _NOT_YET),
    "regr_slope": ("aggregates", "y double, x double", "double", _NOT_YET),
    "regr_intercept": ("aggregates", "y double, x double", "double", _NOT_YET),
    # arrays and maps
    "zip": ("arrays", "array(T1), ..., array(Tn)", "array(row(T1, ..., Tn))", _NOT_YET),
    "map_entries": ("maps", "map(K, V)", "array(row(K, V))", _NOT_YET),
    "multimap_from_entries": ("maps", "array(row(K, V))", "map(K, array(V))", _NOT_YET),
    # date and time
    "current_timezone": (
        "datetime",
        "()",
        "varchar",
        "the session's time zone is Athena's, not the local one's",
    ),
    "localtimestamp": (
        "datetime",
        "()",
        "timestamp(3)",
        "the session's time zone is Athena's, not the local one's",
    ),
    "from_iso8601_timestamp_nanos": ("datetime", "varchar", "timestamp(9) with time zone", _NOT_YET),
    "human_readable_seconds": ("datetime", "double", "varchar", _NOT_YET),
    "parse_datetime": ("datetime", "varchar, format (Joda)", "timestamp(3) with time zone", _NOT_YET),
    "parse_duration": ("datetime", "varchar", "interval day to second", _NOT_YET),
    "to_milliseconds": ("datetime", "interval day to second", "bigint", _NOT_YET),
    # math
    "log": ("math", "b double, x double", "double", _NOT_YET),
    "acos": ("math", "double", "double", _NOT_YET),
    "beta_cdf": ("math", "a double, b double, v double", "double", _DISTRIBUTION),
    "inverse_beta_cdf": ("math", "a double, b double, p double", "double", _DISTRIBUTION),
    "normal_cdf": ("math", "mean double, sd double, v double", "double", _DISTRIBUTION),
    "inverse_normal_cdf": ("math", "mean double, sd double, p double", "double", _DISTRIBUTION),
    "cosine_similarity": ("math", "map(varchar, double), map(varchar, double)", "double", _NOT_YET),
    # strings, regular expressions, URLs, colors
    "ends_with": ("strings", "varchar, suffix varchar", "boolean", _NOT_YET),
    "format": ("strings", "format varchar, args ...", "varchar", "Java's format() has no DuckDB equivalent"),
    "word_stem": (
        "strings",
        "word varchar[, lang varchar]",
        "varchar",
        "Lucene's stemmers are not in DuckDB",
    ),
    "regexp_position": (
        "regex",
        "varchar, pattern[, start bigint[, occurrence bigint]]",
        "integer",
        _NOT_YET,
    ),
    "url_encode": ("url", "varchar", "varchar", _NOT_YET),
    "color": ("color", "varchar", "color", "Trino's color type has no DuckDB equivalent"),
    "rgb": (
        "color",
        "red bigint, green bigint, blue bigint",
        "color",
        "Trino's color type has no DuckDB equivalent",
    ),
    # binary: hashes DuckDB does not compute
    "sha512": ("binary", "varbinary", "varbinary", _HASH),
    "xxhash64": ("binary", "varbinary", "varbinary", _HASH),
    "murmur3": ("binary", "varbinary", "varbinary", _HASH),
    "spooky_hash_v2_32": ("binary", "varbinary", "varbinary", _HASH),
    "spooky_hash_v2_64": ("binary", "varbinary", "varbinary", _HASH),
    "hmac_md5": ("binary", "varbinary, key varbinary", "varbinary", _HASH),
    "hmac_sha1": ("binary", "varbinary, key varbinary", "varbinary", _HASH),
    "hmac_sha256": ("binary", "varbinary, key varbinary", "varbinary", _HASH),
    "hmac_sha512": ("binary", "varbinary, key varbinary", "varbinary", _HASH),
}
for _name, (_family, _args, _returns, _why) in _REFUSED.items():
    Family(_family).refused(_name, args=_args, returns=_returns, why=_why)

# Syntax of Trino's that sqlglot reads into nodes of its own (expressions.py translates them).
_conditional = Family("conditional")
_conditional.node(
    "if", args="condition, true_value[, false_value]", returns="the values' common type", via="If"
)
_conditional.node("case", args="WHEN ... THEN ... [ELSE ...]", returns="the results' common type", via="Case")
Family("conversion").node("try_cast", args="value AS type", returns="the type", via="TryCast")
