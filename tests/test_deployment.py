"""The Dagster+ deployment files name a loadable code location and only settings the platform reads."""

import importlib
import re
from pathlib import Path

import dagster as dg
import yaml

REPO = Path(__file__).resolve().parents[1]


def test_dagster_cloud_yaml_describes_a_loadable_location() -> None:
    config = yaml.safe_load((REPO / "dagster_cloud.yaml").read_text())
    (location,) = config["locations"]
    module = importlib.import_module(location["code_source"]["module_name"])
    defs = module.defs.load_fn()  # @dg.definitions: built when the code location loads
    assert isinstance(defs, dg.Definitions)
    assert defs.resolve_asset_graph().get_all_asset_keys(), "the defs folder holds the warehouse"
    assert location["build"]["directory"] == "."
    assert (REPO / location["build"]["directory"] / "Dockerfile").exists()

    names = [entry.split("=")[0] for entry in location["container_context"]["ecs"]["env_vars"]]
    read = set(
        re.findall(
            r'"((?:DW|AWS)_[A-Z_]+)"', "".join(p.read_text() for p in (REPO / "dw_platform").rglob("*.py"))
        )
    )
    assert set(names) <= read, f"not read by the platform: {set(names) - read}"
    assert not any("SECRET" in name or "ACCESS_KEY" in name for name in names), "no credentials"


def test_image_installs_the_pinned_lock() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "pip install -r requirements.lock" in dockerfile
    dagster_pin = re.search(r"^dagster==(\S+)$", (REPO / "requirements.lock").read_text(), re.M)
    assert dagster_pin and f"dagster-cloud=={dagster_pin.group(1)}" in dockerfile
