"""`Simulator`: the fake Claret as a context manager, for tests, the demo and `claret-errors simulate`.

Starts the HTTP server in a background thread on loopback and offers in-process shortcuts (tokens,
uploads, ground truth) that go through the same state the HTTP side uses. Never prints.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType

from claret_errors.errors import UsageError
from claret_errors.simulator.engine import RowTruth
from claret_errors.simulator.faults import FaultEvent
from claret_errors.simulator.jobs import Job
from claret_errors.simulator.scenario import Scenario, Variant, load_scenario
from claret_errors.simulator.server import SimulatorServer
from claret_errors.simulator.state import SimState


class Simulator:
    """A running simulated Claret with one or more tenants; `with Simulator() as sim:` serves until exit."""

    def __init__(
        self,
        scenario: str | Path | Scenario = "default",
        *,
        seed: int = 0,
        speed: float = 0.001,
        port: int = 0,
        tenants: Sequence[str] = ("demo",),
    ) -> None:
        if not tenants:
            raise UsageError("the simulator needs at least one tenant")
        if speed < 0:
            raise UsageError("speed must be 0 or more")
        self.state = SimState(load_scenario(scenario), seed=seed, speed=speed, tenants=tenants)
        self.seed = seed
        self._port = port
        self._server: SimulatorServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> Simulator:
        """Bind 127.0.0.1 (port 0 picks a free one) and serve in a daemon thread."""
        try:
            self._server = SimulatorServer(self._port, self.state)
        except OSError as exc:
            raise UsageError(f"cannot listen on 127.0.0.1:{self._port}: {exc.strerror}") from exc
        server = self._server
        # A short poll interval keeps `stop` (and so every test's teardown) quick.
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.02), name="claret-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until the server thread ends (the `simulate` command waits here for Ctrl-C)."""
        if self._thread is not None:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)

    # -- facts -------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`: no trailing slash, no tenant."""
        if self._server is None:
            raise UsageError("the simulator is not running")
        return self._server.base_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def tenant(self) -> str:
        """The first tenant."""
        return next(iter(self.state.tenants))

    @property
    def tenants(self) -> tuple[str, ...]:
        return tuple(self.state.tenants)

    @property
    def email(self) -> str:
        return self.credentials()[0]

    @property
    def password(self) -> str:
        return self.credentials()[1]

    @property
    def scenario(self) -> Scenario:
        return self.state.scenario

    @property
    def fault_log(self) -> list[FaultEvent]:
        """Every fault injected so far, in order: the same scenario, seed and requests give the same log."""
        return list(self.state.faults.log)

    @property
    def failures(self) -> list[str]:
        """Exceptions the simulator hit while answering (each answered 500): a test should see none."""
        return list(self._server.failures) if self._server is not None else []

    def _tenant(self, tenant: str | None) -> str:
        name = tenant or self.tenant
        if name not in self.state.tenants:
            raise UsageError(f"no tenant {name!r} in this simulator (tenants: {', '.join(self.tenants)})")
        return name

    def credentials(self, tenant: str | None = None) -> tuple[str, str]:
        """(email, password) that `tokens/create` accepts for the tenant."""
        user = self.state.tenants[self._tenant(tenant)]
        return user.email, user.password

    # -- in-process shortcuts ----------------------------------------------------------------------------

    def mint_token(self, tenant: str | None = None) -> str:
        """A valid `N|secret` token for the tenant, without an HTTP round trip."""
        return self.state.mint_token(self._tenant(tenant))

    def submit_csv(
        self,
        data: bytes,
        filename: str = "inventory.csv",
        *,
        tenant: str | None = None,
        allow_record_creation: bool = True,
        allow_record_update: bool = False,
    ) -> int:
        """The in-process equivalent of the multipart upload (no 1000-record check); returns job_log_id."""
        job = self.state.create_job(
            self._tenant(tenant),
            data,
            filename=filename,
            allow_record_creation=allow_record_creation,
            allow_record_update=allow_record_update,
        )
        return job.job_log_id

    def job(self, job_log_id: int, tenant: str | None = None) -> Job:
        """The tenant's job; UsageError if it has none with that id."""
        job = self.state.job(self._tenant(tenant), job_log_id)
        if job is None:
            raise UsageError(f"no job {job_log_id} for tenant {self._tenant(tenant)!r}")
        return job

    def ground_truth(self, job_log_id: int, tenant: str | None = None) -> list[RowTruth]:
        """What really happened to every input row of a job, in input order."""
        return list(self.job(job_log_id, tenant).truth)

    def set_scenario(self, scenario: str | Path | Scenario) -> None:
        """Switch scenario for jobs and requests from now on (fault counters restart)."""
        self.state.set_scenario(load_scenario(scenario))

    def set_variant(self, tenant: str, variant: Variant) -> None:
        """Give one tenant its own output variant for jobs created from now on (fault counters carry on)."""
        scenario = self.state.scenario
        variants = {**scenario.variants, self._tenant(tenant): variant.check("set_variant")}
        self.state.set_scenario(replace(scenario, variants=variants), restart_faults=False)
