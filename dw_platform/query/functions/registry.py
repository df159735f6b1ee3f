"""One table of Trino's functions by name: how each is translated, the argument and return types
Trino documents for it, why the local engine refuses it where it does, and the documented set an
answer is chosen from where the contract admits more than one.

The family modules (one per page of Trino's function docs) fill the table as they are imported;
`dw_platform.query.functions` imports them all. A name that is not in the table, or is in it as
refused, is refused by name when it is called.
"""

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

Kind = Literal[
    "scalar",  # translate(args: list[Typed]) -> Typed
    "literals",  # translate(args, literals): some arguments must be written as string literals
    "raw",  # translate(tr, raw, scope): lambdas, try(), grouping(), arguments it translates itself
    "aggregate",  # translate(call: AggregateCall) -> Typed (aggregates.py)
    "window",  # translate(name, args, over) -> Typed: a window function only (windows.py)
    "node",  # reached through sqlglot's own node for it (NODE_CALLS in calls.py), not by name
    "refused",  # Trino has it; the local engine refuses it by name (see `refusal`)
]


@dataclasses.dataclass(frozen=True)
class FunctionSpec:
    name: str
    family: str  # the Trino docs' page: strings, regex, json, datetime, arrays, maps, math, ...
    kind: Kind
    args: str  # the argument types, as Trino's docs write them (`|` between overloads)
    returns: str  # the return type rule: a type, or how it follows from the arguments' types
    translate: Callable[..., Any] | None = None
    refusal: str | None = None  # why the local engine refuses it (kind "refused", or every call)
    contract: str | None = None  # the documented set the local answer is one of
    node: str | None = None  # the sqlglot node it is written as (kind "node")
    # Its translation can refuse at run time (DuckDB's error()), which TRY(...) must not turn into NULL.
    fails_at_run_time: bool = False


REGISTRY: dict[str, FunctionSpec] = {}


def register(spec: FunctionSpec) -> FunctionSpec:
    if spec.name in REGISTRY:
        raise RuntimeError(f"the function {spec.name}() is registered twice")  # a bug, not bad input
    REGISTRY[spec.name] = spec
    return spec


def replace(name: str, **changes: Any) -> FunctionSpec:
    """A registered function given another overload (its translation dispatching on the types)."""
    REGISTRY[name] = dataclasses.replace(REGISTRY[name], **changes)
    return REGISTRY[name]


def lookup(name: str) -> FunctionSpec | None:
    return REGISTRY.get(name)


class Family:
    """The registering decorators of one family: `strings = Family("strings")`, then
    `@strings.scalar("length", args="varchar", returns="bigint")` over its translation."""

    def __init__(self, family: str) -> None:
        self.family = family

    def add(self, name: str, kind: Kind, translate: Callable[..., Any] | None, **fields: Any) -> FunctionSpec:
        return register(FunctionSpec(name=name, family=self.family, kind=kind, translate=translate, **fields))

    def _decorator(self, kind: Kind, names: tuple[str, ...], fields: dict[str, Any]) -> Callable[[Any], Any]:
        def decorate(function: Any) -> Any:
            for name in names:
                self.add(name, kind, function, **fields)
            return function

        return decorate

    def scalar(self, *names: str, **fields: Any) -> Callable[[Any], Any]:
        return self._decorator("scalar", names, fields)

    def literals(self, *names: str, **fields: Any) -> Callable[[Any], Any]:
        return self._decorator("literals", names, fields)

    def raw(self, *names: str, **fields: Any) -> Callable[[Any], Any]:
        return self._decorator("raw", names, fields)

    def aggregate(self, *names: str, **fields: Any) -> Callable[[Any], Any]:
        return self._decorator("aggregate", names, fields)

    def window(self, *names: str, **fields: Any) -> Callable[[Any], Any]:
        return self._decorator("window", names, fields)

    def node(self, name: str, *, args: str, returns: str, via: str) -> FunctionSpec:
        """Written as syntax sqlglot reads into a node of its own (`via`), translated in calls.py."""
        return self.add(name, "node", None, args=args, returns=returns, node=via)

    def refused(self, name: str, *, args: str, returns: str, why: str) -> FunctionSpec:
        return self.add(name, "refused", None, args=args, returns=returns, refusal=why)
