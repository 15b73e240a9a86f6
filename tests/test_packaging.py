"""The wheel ships the sample data, and the simulator finds it there when there is no checkout beside it.

The wheel is built by pip from this checkout. Where hatchling is installed in the test environment the build
uses it directly (no network); otherwise pip's build isolation installs hatchling from the configured package
index first.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("hatchling") else []
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *isolation, "-w", str(out)]
    subprocess.run([*command, str(ROOT)], check=True, capture_output=True, timeout=110)
    (built,) = out.glob("claret_errors-*.whl")
    return built


def test_wheel_holds_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "claret_errors/py.typed" in names
    assert "claret_errors/_fixtures/master/items.csv" in names
    assert "claret_errors/_fixtures/scenarios/default.toml" in names
    assert "claret_errors/_fixtures/demo/nightly_inventory.csv" in names
    assert "claret_errors/_fixtures/owners.example.toml" in names  # the demo routes records with it
    assert not any(name.startswith(("tests/", "fixtures/", "bench/")) for name in names)


def test_simulator_reads_data_from_unpacked_wheel(wheel: Path, tmp_path: Path) -> None:
    """Unpacked away from the checkout, the package finds master data and scenarios in `_fixtures`."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import json, claret_errors\n"
        "from claret_errors.resources import fixtures_dir\n"
        "from claret_errors.simulator.master import load_master\n"
        "from claret_errors.simulator.scenario import load_scenario, scenario_names\n"
        "print(json.dumps({'package': claret_errors.__file__, 'fixtures': str(fixtures_dir()),\n"
        "  'items': len(load_master().items), 'scenarios': scenario_names(),\n"
        "  'demo': load_scenario('demo').name}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout)
    assert Path(seen["package"]).is_relative_to(site)
    assert seen["fixtures"] == str(site / "claret_errors" / "_fixtures")
    assert seen["items"] == len(
        (ROOT / "fixtures" / "master" / "items.csv").read_text(encoding="utf-8").splitlines()[1:]
    )
    assert seen["scenarios"] == sorted(p.stem for p in (ROOT / "fixtures" / "scenarios").glob("*.toml"))
    assert seen["demo"] == "demo"
