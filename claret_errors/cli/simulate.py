"""`claret-errors simulate`: serve the fake Claret tenant on loopback until interrupted.

Prints the base URL, tenant and credentials (they belong to the simulator, not to anyone's Claret).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


@click.command(name="simulate")
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
def command(port: int, scenario: str, seed: int, speed: float, tenants: tuple[str, ...]) -> int:
    """Serve a simulated Claret tenant on 127.0.0.1 until Ctrl-C; prints how to reach it."""
    from claret_errors.simulator import Simulator

    chosen: Any = Path(scenario) if scenario.endswith(".toml") else scenario
    with Simulator(chosen, seed=seed, speed=speed, port=port, tenants=tenants or ("demo",)) as sim:
        click.echo(f"Claret simulator ({sim.scenario.name}) serving at {sim.base_url}")
        for name in sim.tenants:
            email, password = sim.credentials(name)
            click.echo(f"  tenant {name}: email {email}  password {password}")
        click.echo(f"  API root: {sim.base_url}/{sim.tenant}/api/v1/")
        click.echo(
            f'  try: curl -X POST -H "X-Requested-With: XMLHttpRequest" '
            f'"{sim.base_url}/{sim.tenant}/api/v1/tokens/create?email={sim.email}&password={sim.password}"'
        )
        click.echo("Press Ctrl-C to stop.", err=True)
        try:
            sim.serve_forever()
        except KeyboardInterrupt:
            click.echo("Stopped.", err=True)
    return 0
