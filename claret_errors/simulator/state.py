"""The simulated Claret's memory: tenants, their users and tokens, inventories and jobs, behind one lock.

Shared by the HTTP handler and the in-process API of `Simulator`; holds no HTTP code. Every token check and
job lookup is scoped to a tenant, so one tenant never sees another's jobs or files.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from claret_errors.simulator.artifacts import error_files, failure_file, output_files, staging_files
from claret_errors.simulator.engine import Reason, RowTruth, validate
from claret_errors.simulator.faults import FaultPlan
from claret_errors.simulator.jobs import DONE, Ending, Job, JobView, downloadable, typical_seconds, view
from claret_errors.simulator.master import Inventory, load_master
from claret_errors.simulator.messages import JOB_FAILURE
from claret_errors.simulator.scenario import Lifecycle, Scenario

PARSE_FAIL_PHASE = 2  # a file that cannot be read fails while "Reading file"
SCENARIO_FAIL_PHASE = 4  # a job the scenario fails dies while "Importing records"
_ALPHABET = string.ascii_letters + string.digits


@dataclass
class Tenant:
    """One tenant: its single API user and its own inventory."""

    name: str
    email: str
    password: str
    inventory: Inventory


class SimState:
    """Everything the simulator knows; every method takes the lock."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int,
        speed: float,
        tenants: Sequence[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.master = load_master()
        self.seed = seed
        self.speed = speed
        self.clock = clock
        self.lock = threading.RLock()
        self.tenants = {name: self._tenant(name) for name in tenants}
        self.tokens: dict[str, str] = {}  # token -> tenant
        self.token_born: dict[str, int] = {}  # token -> `self.requests` when it was minted
        self.requests = 0  # requests let in by a live token: the clock token lifetimes are measured on
        self.jobs: dict[int, Job] = {}
        self._next_token = 1
        self.set_scenario(scenario)

    def _tenant(self, name: str) -> Tenant:
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).hexdigest()[:16]
        return Tenant(name, f"api@{name}.example.com", f"sim-{digest}", Inventory.from_master(self.master))

    def set_scenario(self, scenario: Scenario, *, restart_faults: bool = True) -> None:
        """Switch variants, job behaviours and faults; fault counters start again unless told not to."""
        with self.lock:
            self.scenario = scenario
            if restart_faults:
                self.faults = FaultPlan(scenario.faults, self.seed)

    def login(self, tenant: str, email: str, password: str) -> bool:
        """Whether these credentials are the tenant's user (compared in constant time)."""
        user = self.tenants.get(tenant)
        if user is None:
            return False
        same_email = secrets.compare_digest(email.encode(), user.email.encode())
        return secrets.compare_digest(password.encode(), user.password.encode()) and same_email

    def mint_token(self, tenant: str) -> str:
        """A new Sanctum-style `ID|secret` token for the tenant."""
        with self.lock:
            if tenant not in self.tenants:
                raise KeyError(tenant)
            token = f"{self._next_token}|{''.join(secrets.choice(_ALPHABET) for _ in range(40))}"
            self._next_token += 1
            self.tokens[token] = tenant
            self.token_born[token] = self.requests
            return token

    def token_tenant(self, token: str) -> str | None:
        """The tenant of a live token; None for an unknown one, or once the scenario's lifetime is over."""
        with self.lock:
            tenant = self.tokens.get(token)
            lifetime = self.scenario.token_lifetime
            if tenant is not None and lifetime and self.requests - self.token_born[token] >= lifetime:
                del self.tokens[token], self.token_born[token]
                return None
            self.requests += tenant is not None
            return tenant

    def create_job(
        self,
        tenant: str,
        data: bytes,
        *,
        filename: str = "",
        allow_record_creation: bool,
        allow_record_update: bool,
        mapping: dict[str, str] | None = None,
    ) -> Job:
        """Validate an upload now, render its artifacts, land its records, and queue its lifecycle."""
        with self.lock:
            owner = self.tenants[tenant]
            variant = self.scenario.variant_for(tenant)
            lifecycle = self.scenario.lifecycle
            outcome = validate(
                data,
                self.master,
                owner.inventory,
                variant,
                allow_record_creation=allow_record_creation,
                allow_record_update=allow_record_update,
                mapping=mapping,
            )
            job_id = len(self.jobs) + 1
            now = datetime.now(UTC)
            stem = f"inventory_{now:%Y%m%d}"
            files: dict[str, dict[str, bytes]] = {"input": {f"{stem}_untouched.csv": data}}
            truth = outcome.truth
            ending: Ending = "completed"
            end_phase = DONE
            if outcome.parse_error is not None:
                ending, end_phase = "failed", PARSE_FAIL_PHASE
                files["errors"] = failure_file(outcome.parse_error, variant, stem)
            elif lifecycle.fail_all or job_id in lifecycle.fail_jobs:
                ending, end_phase = "failed", SCENARIO_FAIL_PHASE
                files["staging"] = staging_files(outcome, variant, stem)
                files["errors"] = failure_file(JOB_FAILURE, variant, stem)
                reason = (Reason("unclassified", "", JOB_FAILURE),)
                truth = tuple(RowTruth(t.input_row, "failed", None, reason) for t in truth)
            else:
                ids = {
                    t.input_row: owner.inventory.put(values)
                    for t, values in zip(outcome.truth, outcome.values, strict=True)
                    if t.outcome == "imported"
                }
                files["staging"] = staging_files(outcome, variant, stem)
                quirks = self.scenario.quirks
                files["output"] = output_files(outcome, ids, variant, stem, quirks)
                files["errors"] = error_files(outcome, variant, stem, quirks)
            job = Job(
                job_log_id=job_id,
                tenant=tenant,
                created_at=now,
                created_monotonic=self.clock(),
                records=len(outcome.raw_rows),
                duration=typical_seconds(len(outcome.raw_rows)) * self.speed,
                files={k: v for k, v in files.items() if v},
                truth=truth,
                upload_name=filename,
                ending="never" if job_id in lifecycle.never_finish_jobs else ending,
                end_phase=end_phase,
                folder=f"/{tenant}/download/{tenant}/user-uploads/inventory-import/{now:%Y-%m-%d}/{job_id}",
            )
            self.jobs[job_id] = job
            return job

    def job(self, tenant: str, job_log_id: int) -> Job | None:
        """The tenant's job, or None if it does not exist or belongs to another tenant."""
        with self.lock:
            job = self.jobs.get(job_log_id)
            return job if job is not None and job.tenant == tenant else None

    def poll(self, job: Job) -> JobView:
        """Count a status call and say what it sees."""
        with self.lock:
            job.polls += 1
            return view(job, self.clock() - job.created_monotonic, job.polls, self.scenario.lifecycle)

    def download(self, tenant: str, path: str) -> bytes | None:
        """A file the tenant's jobs have handed out by now, or None."""
        with self.lock:
            for job in self.jobs.values():
                if job.tenant == tenant and path.startswith(job.folder + "/"):
                    state = view(job, self.clock() - job.created_monotonic, 10**9, Lifecycle())
                    return downloadable(job, state).get(path)
            return None
