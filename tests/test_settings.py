"""One settings schema (runtime/settings.py): every setting's variable, default and meaning are
declared there once; the Dagster resource, the generator and the README's table derive from it."""

import ast
from pathlib import Path

import dagster as dg
import pytest

from dw_platform.orchestration.generator import GeneratorConfig
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime import settings_table
from dw_platform.runtime.settings import SCHEMA, ByProfile, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dw_platform"
SETTINGS_MODULE = PACKAGE / "runtime" / "settings.py"


@pytest.mark.parametrize("profile", ["local", "aws"])
def test_the_resource_left_at_its_defaults_gives_the_settings_of_an_empty_environment(
    profile: str, tmp_path: Path
) -> None:
    environment = {"DW_PROFILE": profile, "DW_HOME": str(tmp_path)}
    resource = WarehouseResource(profile=profile, home=str(tmp_path))
    assert resource.settings() == Settings.from_env(environment)


def test_the_resource_has_one_field_per_setting_described_by_its_variable() -> None:
    fields = WarehouseResource.model_fields
    assert list(fields) == list(SCHEMA)
    for name, setting in SCHEMA.items():
        assert fields[name].description == f"{setting.variable}: {setting.meaning}"
        if isinstance(setting.default, ByProfile):
            assert fields[name].default is None  # the profile's, resolved by `settings()`


def test_the_generator_launchpad_defaults_are_the_settings_defaults(tmp_path: Path) -> None:
    defaults = Settings.from_env({"DW_HOME": str(tmp_path)})
    config = GeneratorConfig()
    assert config.events_per_table == defaults.generator_events_per_minute == 100
    assert config.malformed_ratio == defaults.generator_malformed_ratio == 0.0005


def _is_docstring(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    return isinstance(parents.get(node), ast.Expr)


def _settings_defined_outside_the_schema(path: Path) -> list[str]:
    """Where a module outside the schema names a setting's variable or gives a field or parameter
    named like a setting a literal default: a second definition that could drift."""
    variables = {s.variable for s in SCHEMA.values()} | {s.fallback for s in SCHEMA.values() if s.fallback}
    where = path.relative_to(ROOT)
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in variables and not _is_docstring(node, parents):
            found.append(f"{where}:{node.lineno}: variable {node.value}")
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            literal = isinstance(node.value, ast.Constant) and node.value.value is not None
            if node.target.id in SCHEMA and literal:
                found.append(f"{where}:{node.lineno}: field {node.target.id} = {ast.unparse(node.value)}")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            positional = [*arguments.posonlyargs, *arguments.args]
            defaulted = positional[len(positional) - len(arguments.defaults) :]
            pairs = [*zip(defaulted, arguments.defaults, strict=True)]
            pairs += [*zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)]
            for argument, value in pairs:
                if argument.arg in SCHEMA and isinstance(value, ast.Constant) and value.value is not None:
                    found.append(f"{where}:{node.lineno}: parameter {argument.arg} = {value.value!r}")
    return found


def test_no_setting_is_named_or_defaulted_outside_the_schema() -> None:
    found = [
        line
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != SETTINGS_MODULE
        for line in _settings_defined_outside_the_schema(path)
    ]
    assert found == []


def test_the_readme_table_is_the_schema() -> None:
    readme = (ROOT / "README.md").read_text()
    assert settings_table.with_table(readme) == readme, "run python -m dw_platform.runtime.settings_table"
    table = readme.split(settings_table.BEGIN)[1].split(settings_table.END)[0]
    documented = [line.split("|")[1].strip().strip("`") for line in table.strip().splitlines()[2:]]
    assert documented == [s.variable for s in SCHEMA.values()]


def test_each_variable_sets_its_setting_and_a_bad_value_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = {
        "DW_PROFILE": "aws",
        "DW_HOME": str(tmp_path),
        "DW_PARTITIONS_START": "2026-03-04T05:00:00+00:00",
        "DW_GENERATOR_EVENTS_PER_MINUTE": "7",
        "DW_GENERATOR_MALFORMED_RATIO": "0.25",
        "DW_IS_DEV": "yes",
        "DW_COMPACTION_LAG_HOURS": "4",
        "DW_COMPACTION_CRON": "5 * * * *",
        "AWS_REGION": "eu-west-1",
        "DW_STACK": "blue",
        "DW_DATA_BUCKET": "data-b",
        "DW_RESULTS_BUCKET": "results-b",
        "DW_ATHENA_WORKGROUP": "wg",
        "DW_QUERY_ENGINE": "duckdb",
        "DW_SEED_HOURS": "2",
        "DW_SEED_EVENTS_PER_HOUR": "9",
    }
    assert set(environment) == {s.variable for s in SCHEMA.values()}
    read = Settings.from_env(environment)
    assert (read.profile, read.home, read.partitions_start.isoformat()) == (
        "aws",
        tmp_path.resolve(),
        "2026-03-04T05:00:00+00:00",
    )
    assert (read.generator_events_per_minute, read.generator_malformed_ratio, read.is_dev) == (7, 0.25, True)
    assert (read.compaction_lag_hours, read.compaction_cron, read.aws_region) == (4, "5 * * * *", "eu-west-1")
    assert (read.stack, read.data_bucket, read.results_bucket, read.athena_workgroup) == (
        "blue",
        "data-b",
        "results-b",
        "wg",
    )
    assert (read.query_engine, read.seed_hours, read.seed_events_per_hour) == ("duckdb", 2, 9)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    resource = WarehouseResource.from_settings(read)  # bound to the variables with dg.EnvVar
    with dg.build_resources({"warehouse": resource}) as built:
        assert built.warehouse.settings() == read
    for variable, bad in [("DW_SEED_HOURS", "three"), ("DW_QUERY_ENGINE", "trino"), ("DW_IS_DEV", "maybe")]:
        with pytest.raises(SettingsError, match=variable) as refused:
            Settings.from_env({**environment, variable: bad})
        assert "\n" not in str(refused.value)
