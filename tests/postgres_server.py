"""A throwaway PostgreSQL server for tests and benchmarks: its own data directory under the system's
temporary directory, a free port on 127.0.0.1 (no Unix socket), password authentication, stopped
and deleted when the block ends.

The server programs are found on PATH or in Debian's /usr/lib/postgresql/<version>/bin (`.ci/run`
installs Debian's `postgresql` package when neither has them). PostgreSQL refuses to run as root:
as root, the cluster belongs to the `postgres` user (Debian's package creates it; a dedicated system
user otherwise) and its programs run as that user.
"""

import contextlib
import dataclasses
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

DEBIAN_BIN = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"
FALLBACK_USER = "dw-postgres"
USER = "dagster"
PASSWORD = "dw-test-secret"  # a throwaway cluster's password; the point is that it comes from the URL


class PostgresNotFound(RuntimeError):
    pass


def find_bin() -> Path:
    """The directory holding initdb and pg_ctl: PATH first, then the newest Debian version."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    versions = sorted(
        (p for p in DEBIAN_BIN.glob("*/bin") if (p / "initdb").exists() and (p / "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise PostgresNotFound(
            "PostgreSQL's initdb/pg_ctl are not on PATH nor in /usr/lib/postgresql/*/bin: "
            "install Debian's postgresql package (.ci/run does)"
        )
    return versions[-1]


def _service_user() -> pwd.struct_passwd | None:
    """Who runs the server: None (this process) unless root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    for name in (SERVICE_USER, FALLBACK_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_USER],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(FALLBACK_USER)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    port: int
    bin_dir: Path
    data_dir: Path
    user: pwd.struct_passwd | None

    def url(self, database: str = "postgres") -> str:
        """The URL in the form deploy/dagster.yaml documents (psycopg2 named: see deploy/README.md)."""
        return f"postgresql+psycopg2://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        return subprocess.run(
            [str(self.bin_dir / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql],
            env={
                **os.environ,
                "PGHOST": "127.0.0.1",
                "PGPORT": str(self.port),
                "PGUSER": USER,
                "PGPASSWORD": PASSWORD,
                "PGDATABASE": database,
            },
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (empty, or a copy of `template`); returns its URL."""
        self.psql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)


def _run_as(user: pwd.struct_passwd | None, command: list[str], cwd: Path) -> None:
    kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {(result.stderr or result.stdout).strip()}")


@contextlib.contextmanager
def postgres_server(durable: bool = False) -> Iterator[PostgresServer]:
    """A fresh cluster until the block ends. `durable`: PostgreSQL's defaults (fsync, SCRAM
    passwords) as a production server has them (benchmarks); otherwise durability is off and the
    password check is md5, cheaper per connection (tests; dagster-postgres connects per query)."""
    bin_dir = find_bin()
    user = _service_user()
    root = Path(tempfile.mkdtemp(prefix="dw-postgres-"))
    data = root / "data"
    try:
        root.chmod(0o755)  # the service user works in here
        data.mkdir(mode=0o700)
        password_file = root / "password"
        password_file.write_text(PASSWORD + "\n")
        if user:
            os.chown(data, user.pw_uid, user.pw_gid)
            os.chown(password_file, user.pw_uid, user.pw_gid)
        auth = "scram-sha-256" if durable else "md5"
        initdb = f"-D {data} -U {USER} --pwfile={password_file} --auth={auth} -E UTF8 --locale=C.UTF-8"
        _run_as(user, [str(bin_dir / "initdb"), *initdb.split(), "--no-instructions"], root)
        password_file.unlink()
        options = "-c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        for attempt in range(3):  # another process may take the free port first
            port = _free_port()
            start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w"]
            try:
                _run_as(user, [*start, "-t", "60", "-o", f"{options} -p {port}", "start"], root)
                break
            except RuntimeError:
                if attempt == 2:
                    raise RuntimeError(f"PostgreSQL did not start: {_tail(data / 'server.log')}") from None
        server = PostgresServer(port=port, bin_dir=bin_dir, data_dir=data, user=user)
        try:
            if not durable:  # stored as md5 so that the md5 check applies (SCRAM is the default)
                server.psql(f"SET password_encryption = 'md5'; ALTER ROLE {USER} PASSWORD '{PASSWORD}'")
            yield server
        finally:
            _run_as(user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text().strip().splitlines()[-3:])
    except OSError:
        return "no server log"


DEPLOY_YAML = Path(__file__).resolve().parent.parent / "deploy" / "dagster.yaml"
URL_ENV = "DAGSTER_PG_URL"  # the variable deploy/dagster.yaml reads


def deploy_instance(home: Path, url: str) -> dg.DagsterInstance:
    """The instance deploy/dagster.yaml describes, as documented (the URL in DAGSTER_PG_URL), at `home`."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEPLOY_YAML, home / "dagster.yaml")
    previous = os.environ.get(URL_ENV)
    os.environ[URL_ENV] = url
    try:
        return dg.DagsterInstance.from_config(str(home))
    finally:
        if previous is None:
            del os.environ[URL_ENV]
        else:
            os.environ[URL_ENV] = previous


TEMPLATE = "dagster_template"
_counter = iter(range(1_000_000))


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One cluster per test process (each pytest-xdist worker has its own), with a template database
    that already holds Dagster's schema (creating it takes seconds; copying it, a fraction)."""
    with postgres_server() as server:
        server.create_database(TEMPLATE)
        deploy_instance(tmp_path_factory.mktemp("dagster-template"), server.url(TEMPLATE)).dispose()
        yield server


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A fresh database for one test, with Dagster's schema."""
    return postgres.create_database(f"test_{os.getpid()}_{next(_counter)}", template=TEMPLATE)
