"""What every provisioned resource offers the planner: its desired configuration, what exists,
and how to create, update and delete it."""

import abc
import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from dw_platform.aws.clients import aws_client
from dw_platform.errors import DwError
from dw_platform.provisioning.naming import StackNames


class ProvisioningError(DwError):
    """A provisioning step that cannot go on; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Observed:
    """A resource as it exists: the parts of its configuration the stack manages, and the stack
    whose tag it carries (None: no stack's). Only a resource carrying this stack's name is changed
    or deleted by it."""

    config: dict[str, Any]
    owner: str | None


class AwsClients:
    """boto3 clients from the default credential chain; `AWS_ENDPOINT_URL` is honoured by boto3."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = aws_client(service, self.region)
        return self._clients[service]

    def account(self) -> str:
        return self.client("sts").get_caller_identity()["Account"]


def differing_fields(desired: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Top-level fields whose desired value is not contained in the current one. Containment, not
    equality: AWS fills in defaults the stack never set, and those must not show as changes."""
    return sorted(key for key, value in desired.items() if not _contains(current.get(key), value))


def _contains(current: Any, desired: Any) -> bool:
    if isinstance(desired, Mapping):
        return isinstance(current, Mapping) and all(_contains(current.get(k), v) for k, v in desired.items())
    return current == desired


def wait_until(
    check: Callable[[], bool], *, what: str, timeout_s: float = 300, interval_s: float = 1
) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise ProvisioningError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


class Resource(abc.ABC):
    kind: ClassVar[str]

    def __init__(self, names: StackNames, clients: AwsClients, name: str) -> None:
        self.names = names
        self.clients = clients
        self.name = name

    @abc.abstractmethod
    def desired(self) -> dict[str, Any]:
        """The configuration the declaration asks for, in the shape `read` reports."""

    @abc.abstractmethod
    def read(self) -> Observed | None:
        """The resource as it exists, or None if it does not."""

    @abc.abstractmethod
    def create(self) -> None: ...

    @abc.abstractmethod
    def update(self, fields: list[str]) -> None:
        """Bring the named fields to their desired values."""

    @abc.abstractmethod
    def delete(self) -> None: ...

    def destroy_blocker(self) -> str | None:
        """Why destroying this resource must not proceed, if it must not."""
        return None

    def client(self, service: str) -> Any:
        return self.clients.client(service)
