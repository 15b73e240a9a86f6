"""The Python API: every exported name resolves, importing the package stays cheap, and `run` works
from Python against the simulator as a scheduler would call it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from mypy import api as mypy_api

import claret_errors
from claret_errors.simulator import Simulator, make_nightly_csv

PUBLIC = {
    # running: sync, and `_async` on a caller's own client
    "run", "run_async", "fetch", "fetch_async", "ClaretClient", "analyze", "analyze_job", "resubmit",
    "RunResult", "ResubmitResult", "FetchOutcome", "JobResult", "demo",
    # the stages one at a time
    "load_job", "validate", "load_and_validate", "reconcile", "explain", "fix", "write_job_reports",
    "write_run_index", "History", "notify", "NotifyResult",
    # settings and the errors a caller catches
    "Settings", "load_settings", "ExitCode", "ClaretErrorsError", "UsageError", "ConfigError",
    "JobFailedError", "WaitTimeoutError", "AuthError", "ClaretUnavailableError", "ClaretUnreachableError",
    "JobNotFoundError", "UploadUnknownError", "ArtifactError", "__version__",
}  # fmt: skip


def test_exports_are_what_we_mean_and_each_resolves_to_its_module() -> None:
    """A name added or dropped by accident changes what callers may rely on; each must import."""
    assert set(claret_errors.__all__) == PUBLIC and len(claret_errors.__all__) == len(PUBLIC)
    for name in claret_errors.__all__[1:]:
        value = getattr(claret_errors, name)
        assert value.__module__ == claret_errors._MODULE_OF[name], name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = claret_errors.nope  # type: ignore[attr-defined]


def test_a_stage_stays_the_function_after_its_module_is_imported() -> None:
    """`claret_errors.fetch` is the stage even once the module of that name is loaded (as `run` loads it)."""
    import importlib

    for name in ("fetch", "validate", "reconcile", "fix", "resubmit", "notify", "demo"):
        module = importlib.import_module(claret_errors._MODULE_OF[name])
        assert getattr(claret_errors, name) is getattr(module, name), name
    from claret_errors import fix

    assert fix.__module__ == "claret_errors.fix.corrections"


def test_every_error_a_caller_catches_is_exported() -> None:
    """Each expected error class is reachable from the package, so a caller can tell them apart."""
    from claret_errors import errors

    defined = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.ClaretErrorsError)
    }
    assert defined <= set(claret_errors.__all__)


def test_type_checkers_see_the_same_names_as_the_lazy_table() -> None:
    """The TYPE_CHECKING imports re-export exactly the table's names, each from the table's module."""
    tree = ast.parse(Path(claret_errors.__file__).read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    typed = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name  # `import x as x`: an explicit re-export under mypy --strict
    }
    assert typed == claret_errors._MODULE_OF


def test_public_api_types_check_under_strict_mypy(tmp_path: Path) -> None:
    """A caller's typed use of the API passes mypy --strict, and a wrong expectation does not."""
    usage = Path(__file__).parent / "typing" / "public_api.py"
    # The project's own cache, which `mypy claret_errors` (CI runs it first) has warmed: seconds, not 15.
    cache = ["--cache-dir", str(Path(__file__).parent.parent / ".mypy_cache")]
    out, err, status = mypy_api.run(["--strict", *cache, str(usage)])
    assert status == 0, out + err
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "from typing import assert_type\nfrom claret_errors import RunResult, run, Settings\n"
        "assert_type(run(['1'], Settings()), list[RunResult])\n",
        encoding="utf-8",
    )
    out, _err, status = mypy_api.run(["--strict", *cache, str(wrong)])
    assert status == 1 and 'not "list[RunResult]"' in out


def test_importing_the_package_loads_no_heavy_library() -> None:
    """`import claret_errors` alone loads no polars, httpx or pandera: a scheduler's import stays fast."""
    heavy = "('polars', 'httpx', 'pandera')"
    code = f"import json, sys, claret_errors; print(json.dumps([m for m in {heavy} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_run_from_python(tmp_path: Path) -> None:
    """`run` called from Python fetches and analyses a job; its summary matches the summary.json on disk."""
    with Simulator(seed=31, speed=0.0) as sim:
        job = str(sim.submit_csv(make_nightly_csv(80, seed=31, error_share=0.2)))
        settings = claret_errors.Settings(
            tenant=sim.tenant, base_url=sim.base_url, token=sim.mint_token(), out=tmp_path, poll_interval=0.02
        )
        result = claret_errors.run([job], settings)
    assert result.exit_code == claret_errors.ExitCode.RECORDS_FAILED
    [job_result] = result.results
    assert job_result.counts is not None and job_result.counts.input_rows == 80
    on_disk = json.loads((tmp_path / "demo" / job / "summary.json").read_text())
    assert on_disk == {k: v for k, v in result.summary()["jobs"][0].items() if k != "folder"}
