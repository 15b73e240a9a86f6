"""`claret-errors simulate`: serve the fake Claret tenant on loopback until interrupted.

Prints the base URL, tenant and credentials (they belong to the simulator, not to anyone's Claret).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from claret_errors.simulator import Simulator


@click.command(name="simulate", short_help="Serve a simulated Claret tenant on loopback.")
@click.option(
    "--port", type=int, default=0, show_default=True, help="Port on 127.0.0.1 (0 picks a free one)."
)
@click.option(
    "--scenario", default="default", show_default=True, help="Built-in scenario name or a .toml file."
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the fault schedule and passwords."
)
@click.option(
    "--speed",
    type=float,
    default=0.05,
    show_default=True,
    help="Multiplier of Claret's typical processing times (1 = real time).",
)
@click.option("--tenant", "tenants", multiple=True, help="Tenant to serve (repeatable) [default: demo].")
@click.option(
    "--sample",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write a 50-row sample nightly CSV (some rows bad on purpose) to this file.",
)
def command(
    port: int, scenario: str, seed: int, speed: float, tenants: tuple[str, ...], sample: Path | None
) -> int:
    """Serve a simulated Claret tenant on 127.0.0.1 until Ctrl-C; prints how to reach it."""
    from claret_errors.errors import UsageError
    from claret_errors.simulator import Simulator, make_nightly_csv

    if sample is not None:
        try:
            sample.write_bytes(make_nightly_csv(50, seed=seed))
        except OSError as exc:
            raise UsageError(f"cannot write the sample CSV {sample}: {exc.strerror}") from exc

    chosen: str | Path = Path(scenario) if scenario.endswith(".toml") else scenario
    with Simulator(chosen, seed=seed, speed=speed, port=port, tenants=tenants or ("demo",)) as sim:
        try:  # Ctrl-C at any moment after the server is up is a clean stop
            for line in _instructions(sim, sample):
                click.echo(line)
            click.echo("Press Ctrl-C to stop.", err=True)
            sim.serve_forever()
        except KeyboardInterrupt:
            click.echo("Stopped.", err=True)
    return 0


def _instructions(sim: Simulator, sample: Path | None) -> list[str]:
    """How to reach the simulator: base URL, credentials per tenant, and the curl walk through a job."""
    api = f"{sim.base_url}/{sim.tenant}/api/v1"
    auth = '-H "X-Requested-With: XMLHttpRequest" -H "Authorization: Bearer $TOKEN"'
    lines = [f"Claret simulator ({sim.scenario.name}) serving at {sim.base_url}"]
    for name in sim.tenants:
        email, password = sim.credentials(name)
        lines.append(f"  tenant {name}: email {email}  password {password}")
    return [
        *lines,
        f"  API root: {api}/",
        f'  try: curl -X POST -H "X-Requested-With: XMLHttpRequest" '
        f'"{api}/tokens/create?email={sim.email}&password={sim.password}"',
        f'  then: curl {auth} -F file=@{sample or "nightly.csv"} "{api}/inventory/import/process"',
        f'  and:  curl {auth} "{api}/imports/status/1"',
    ]
