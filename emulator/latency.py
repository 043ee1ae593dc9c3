"""How long each AWS API call takes, in virtual seconds: an assumption, named as one.

AWS publishes no latency for these APIs. The emulator draws each call's latency from a
log-normal distribution per kind of call (the usual shape of service latencies: a
floor, a typical value, a long right tail), with seeded generators so a run repeats:

| kind | median | p99 (sigma 0.5) | APIs |
| --- | --- | --- | --- |
| read | 40 ms | 130 ms | Describe*, Get*, List* |
| write | 80 ms | 260 ms | other mutating calls |
| start | 150 ms | 480 ms | StartExecution, SendCommand, StartBackupJob, StartCopyJob, Invoke |

A throttled call is answered after the same latency: the request still travels.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass


@dataclass(frozen=True)
class LatencyKind:
    median: float
    sigma: float


READ = LatencyKind(0.040, 0.5)
WRITE = LatencyKind(0.080, 0.5)
START = LatencyKind(0.150, 0.5)
_STARTS = frozenset(
    {"StartExecution", "SendCommand", "StartBackupJob", "StartCopyJob", "Invoke", "Publish"}
)


def kind_of(action: str) -> LatencyKind:
    if action in _STARTS:
        return START
    if action.startswith(("Describe", "Get", "List", "Search")):
        return READ
    return WRITE


class LatencyModel:
    """Seeded per-API latencies. ``scale=0`` makes every call instant."""

    def __init__(self, seed: int = 0, scale: float = 1.0) -> None:
        self.seed = seed
        self.scale = scale
        self._generators: dict[str, random.Random] = {}

    def sample(self, api: str, action: str) -> float:
        if self.scale <= 0:
            return 0.0
        generator = self._generators.get(api)
        if generator is None:
            generator = random.Random(self.seed * 1_000_003 + zlib.crc32(api.encode()))  # noqa: S311
            self._generators[api] = generator
        kind = kind_of(action)
        return self.scale * kind.median * math.exp(kind.sigma * generator.gauss(0.0, 1.0))
