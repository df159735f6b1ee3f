"""Names for the lambdas the translation writes, and binding a value to one so it is evaluated once.

One counter serves the whole package: modules that each counted for themselves wrote the same names
(`__dw_e7` from two counters), and a lambda nested in another's body would capture the outer name.
"""

import itertools
from collections.abc import Callable

_COUNTER = itertools.count()


def fresh_name(prefix: str) -> str:
    """A lambda parameter name no other translated expression uses."""
    return f"__dw_{prefix}{next(_COUNTER)}"


def bind(values: list[str], body: Callable[..., str]) -> str:
    """`body(*names)` with each value evaluated once (macros and lambdas expand their arguments
    textually, so a value written twice would be computed twice)."""
    names = [fresh_name("v") for _ in values]
    text = body(*names)
    for value, name in reversed(list(zip(values, names, strict=True))):
        text = f"list_transform([{value}], lambda {name}: {text})[1]"
    return text
