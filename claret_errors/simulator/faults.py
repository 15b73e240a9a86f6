"""The fault schedule at request time: which scenario rules hit this request, reproducibly by seed.

Counts matching requests per (rule, key) and draws from a generator seeded by (seed, rule, key, count), so a
key's faults do not depend on how other keys' requests interleave. Decides only; the server acts.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from claret_errors.simulator.scenario import FaultRule


@dataclass(frozen=True)
class FaultEvent:
    """One fault the simulator injected: the record tests compare across runs."""

    endpoint: str
    key: str
    count: int  # the n-th matching request of this key for this rule
    kind: str
    status: int | None


class FaultPlan:
    """A scenario's fault rules with their per-key counters and the log of what was injected."""

    def __init__(self, rules: tuple[FaultRule, ...], seed: int) -> None:
        self.rules = rules
        self.seed = seed
        self.log: list[FaultEvent] = []
        self._seen: dict[tuple[int, str], int] = {}
        self._hits: dict[tuple[int, str], int] = {}
        self._lock = threading.Lock()

    def _hit(self, index: int, rule: FaultRule, key: str, count: int) -> bool:
        if rule.times and self._hits.get((index, key), 0) >= rule.times:
            return False
        if count <= rule.first or count in rule.on:
            return True
        if rule.probability > 0:
            draw = random.Random(f"{self.seed}:{index}:{key}:{count}").random()
            return draw < rule.probability
        return False

    def decide(self, endpoint: str, key: str, path: str) -> list[FaultRule]:
        """The rules that hit this request, in scenario order (a latency rule can precede another fault)."""
        hits: list[FaultRule] = []
        with self._lock:
            for index, rule in enumerate(self.rules):
                if rule.endpoint not in (endpoint, "any") or rule.match not in path:
                    continue
                count = self._seen.get((index, key), 0) + 1
                self._seen[(index, key)] = count
                if self._hit(index, rule, key, count):
                    self._hits[(index, key)] = self._hits.get((index, key), 0) + 1
                    hits.append(rule)
                    status = (
                        rule.status
                        if rule.kind == "http_error"
                        else 429
                        if rule.kind == "rate_limit"
                        else None
                    )
                    self.log.append(FaultEvent(endpoint, key, count, rule.kind, status))
        return hits
