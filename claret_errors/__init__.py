"""claret-errors: account for every row of a Claret import, explain every failure, correct what can be.

The Python API, for schedulers that call it without a shell (Airflow, Dagster, cron scripts)::

    from claret_errors import Settings, load_settings, run
    result = run(["1234", "1235"], load_settings({"tenant": "acme"}))
    result.exit_code        # the contract's exit code for the whole run
    result.summary()        # what `--json` prints; each job's summary.json is in its folder

The stages are callable on their own: `fetch`, `load_job`, `validate`, `reconcile`, `fix`,
`write_job_reports`, with `load_and_validate` for the two in one call as `analyze` runs them,
`analyze` for folders already on disk, `resubmit` for the second round and `explain` for how one
message is classified.
Names are imported on first use, so `import claret_errors` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "run": "claret_errors.pipeline",
    "run_async": "claret_errors.pipeline",
    "analyze": "claret_errors.pipeline",
    "analyze_job": "claret_errors.pipeline",
    "load_and_validate": "claret_errors.pipeline",
    "resubmit": "claret_errors.pipeline",
    "RunResult": "claret_errors.pipeline",
    "ResubmitResult": "claret_errors.pipeline",
    "fetch": "claret_errors.fetch",
    "fetch_jobs": "claret_errors.fetch",
    "load_job": "claret_errors.load.job",
    "validate": "claret_errors.validate",
    "reconcile": "claret_errors.reconcile.accounting",
    "explain": "claret_errors.reconcile.explain",
    "fix": "claret_errors.fix.corrections",
    "write_job_reports": "claret_errors.report.write",
    "write_run_index": "claret_errors.report.write",
    "History": "claret_errors.history",
    "Settings": "claret_errors.config",
    "load_settings": "claret_errors.config",
    "JobResult": "claret_errors.results",
    "ClaretErrorsError": "claret_errors.errors",
    "ExitCode": "claret_errors.errors",
    "demo": "claret_errors.demo",
}

__all__ = [
    "ClaretErrorsError",
    "ExitCode",
    "History",
    "JobResult",
    "ResubmitResult",
    "RunResult",
    "Settings",
    "__version__",
    "analyze",
    "analyze_job",
    "demo",
    "explain",
    "fetch",
    "fetch_jobs",
    "fix",
    "load_and_validate",
    "load_job",
    "load_settings",
    "reconcile",
    "resubmit",
    "run",
    "run_async",
    "validate",
    "write_job_reports",
    "write_run_index",
]

if TYPE_CHECKING:
    from claret_errors.config import Settings, load_settings
    from claret_errors.demo import demo
    from claret_errors.errors import ClaretErrorsError, ExitCode
    from claret_errors.fetch import fetch, fetch_jobs
    from claret_errors.fix.corrections import fix
    from claret_errors.history import History
    from claret_errors.load.job import load_job
    from claret_errors.pipeline import (
        ResubmitResult,
        RunResult,
        analyze,
        analyze_job,
        load_and_validate,
        resubmit,
        run,
        run_async,
    )
    from claret_errors.reconcile.accounting import reconcile
    from claret_errors.reconcile.explain import explain
    from claret_errors.report.write import write_job_reports, write_run_index
    from claret_errors.results import JobResult
    from claret_errors.validate import validate


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'claret_errors' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
