"""A faithful fake Claret tenant on loopback: the demo's backend and the other side of every HTTP test.

Built from Claret's API documentation; where it is silent, scenarios choose the variant.
Listens on loopback only and never reaches the network.
"""

from claret_errors.simulator.engine import Reason, RowTruth
from claret_errors.simulator.faults import FaultEvent
from claret_errors.simulator.nightly import make_nightly_csv
from claret_errors.simulator.scenario import (
    FaultRule,
    Lifecycle,
    Quirks,
    Scenario,
    Variant,
    load_scenario,
    scenario_names,
)
from claret_errors.simulator.simulator import Simulator

__all__ = [
    "FaultEvent",
    "FaultRule",
    "Lifecycle",
    "Quirks",
    "Reason",
    "RowTruth",
    "Scenario",
    "Simulator",
    "Variant",
    "load_scenario",
    "make_nightly_csv",
    "scenario_names",
]
