"""claret-errors: account for every row of a Claret import, explain every failure, correct what can be.

The Python API, for schedulers that call it without a shell (Airflow, Dagster, cron scripts)::

    from claret_errors import Settings, load_settings, run
    result = run(["1234", "1235"], load_settings({"tenant": "acme"}))
    result.exit_code        # the contract's exit code for the whole run
    result.summary()        # what `--json` prints; each job's summary.json is in its folder

The stages are callable on their own: `fetch`, `load_job`, `validate`, `reconcile`, `fix`,
`write_job_reports`, with `load_and_validate` for the two in one call as `analyze` runs them,
`analyze` for folders already on disk, `resubmit` for the second round, `notify` to tell each owner
their share of a night and `explain` for how one message is classified. A caller with its own event
loop uses `run_async` and `fetch_async` (each name `X_async` is `X` on a `ClaretClient` the caller
opens). Every error the library expects is a
`ClaretErrorsError` carrying its `exit_code`; its subclasses are exported for callers who tell them apart.

`_EXPORTS` is the one list of the public names; the imports under TYPE_CHECKING give type checkers the
same names (a test keeps the two equal). Names are imported on first use, so `import claret_errors` stays
cheap; it must not import a stage itself.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# module -> the public names it defines.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "claret_errors.pipeline": (
        "run",
        "run_async",
        "analyze",
        "analyze_job",
        "load_and_validate",
        "resubmit",
        "RunResult",
        "ResubmitResult",
    ),
    "claret_errors.fetch": ("fetch", "fetch_async", "FetchOutcome"),
    "claret_errors.claret.client": ("ClaretClient",),
    "claret_errors.load.job": ("load_job",),
    "claret_errors.validate": ("validate",),
    "claret_errors.reconcile.accounting": ("reconcile",),
    "claret_errors.reconcile.explain": ("explain",),
    "claret_errors.fix.corrections": ("fix",),
    "claret_errors.report.write": ("write_job_reports", "write_run_index"),
    "claret_errors.notify.deliver": ("notify", "NotifyResult"),
    "claret_errors.history": ("History",),
    "claret_errors.config": ("Settings", "load_settings"),
    "claret_errors.results": ("JobResult",),
    "claret_errors.errors": (
        "ExitCode",
        "ClaretErrorsError",
        "UsageError",
        "ConfigError",
        "JobFailedError",
        "WaitTimeoutError",
        "AuthError",
        "ClaretUnavailableError",
        "ClaretUnreachableError",
        "JobNotFoundError",
        "UploadUnknownError",
        "ArtifactError",
    ),
    "claret_errors.demo": ("demo",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = ["__version__", *_MODULE_OF]

if TYPE_CHECKING:
    from claret_errors.claret.client import ClaretClient as ClaretClient
    from claret_errors.config import Settings as Settings
    from claret_errors.config import load_settings as load_settings
    from claret_errors.demo import demo as demo
    from claret_errors.errors import ArtifactError as ArtifactError
    from claret_errors.errors import AuthError as AuthError
    from claret_errors.errors import ClaretErrorsError as ClaretErrorsError
    from claret_errors.errors import ClaretUnavailableError as ClaretUnavailableError
    from claret_errors.errors import ClaretUnreachableError as ClaretUnreachableError
    from claret_errors.errors import ConfigError as ConfigError
    from claret_errors.errors import ExitCode as ExitCode
    from claret_errors.errors import JobFailedError as JobFailedError
    from claret_errors.errors import JobNotFoundError as JobNotFoundError
    from claret_errors.errors import UploadUnknownError as UploadUnknownError
    from claret_errors.errors import UsageError as UsageError
    from claret_errors.errors import WaitTimeoutError as WaitTimeoutError
    from claret_errors.fetch import FetchOutcome as FetchOutcome
    from claret_errors.fetch import fetch as fetch
    from claret_errors.fetch import fetch_async as fetch_async
    from claret_errors.fix.corrections import fix as fix
    from claret_errors.history import History as History
    from claret_errors.load.job import load_job as load_job
    from claret_errors.notify.deliver import NotifyResult as NotifyResult
    from claret_errors.notify.deliver import notify as notify
    from claret_errors.pipeline import ResubmitResult as ResubmitResult
    from claret_errors.pipeline import RunResult as RunResult
    from claret_errors.pipeline import analyze as analyze
    from claret_errors.pipeline import analyze_job as analyze_job
    from claret_errors.pipeline import load_and_validate as load_and_validate
    from claret_errors.pipeline import resubmit as resubmit
    from claret_errors.pipeline import run as run
    from claret_errors.pipeline import run_async as run_async
    from claret_errors.reconcile.accounting import reconcile as reconcile
    from claret_errors.reconcile.explain import explain as explain
    from claret_errors.report.write import write_job_reports as write_job_reports
    from claret_errors.report.write import write_run_index as write_run_index
    from claret_errors.results import JobResult as JobResult
    from claret_errors.validate import validate as validate


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first use."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'claret_errors' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """This package, keeping an exported function where Python would bind the submodule of the same name
    (the stage `fetch` and the module `claret_errors.fetch`, also `validate`, `reconcile`, `fix`,
    `resubmit`, `demo`) once the submodule is imported. Submodules stay importable by their full name."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _MODULE_OF and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    """The public names beside what is already loaded, for completion in a REPL."""
    return sorted({*globals(), *__all__})
