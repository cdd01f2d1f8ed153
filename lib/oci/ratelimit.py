"""How many new machines one source may create: a sliding one-minute window per address, in memory.

In memory and per ``oci-api`` process, on purpose: the limit protects the state directory and the BMC pool
from one host inventing serials, not an accounting; a restart forgets the counts, which only lets a source
start its minute again.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from oci.errors import TooManyRequests

WINDOW = timedelta(minutes=1)
_SOURCES_KEPT = 4096  # beyond this many sources, those idle for a whole window are forgotten


class NewMachineLimit:
    def __init__(self) -> None:
        self._times: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, source: object, now: datetime, per_minute: int) -> None:
        """Count one new machine from ``source``; TooManyRequests (nothing counted) beyond ``per_minute``."""
        key = str(source)
        with self._lock:
            if len(self._times) > _SOURCES_KEPT:
                self._times = {k: q for k, q in self._times.items() if q and q[-1] > now - WINDOW}
            times = self._times.setdefault(key, deque())
            while times and times[0] <= now - WINDOW:
                times.popleft()
            if len(times) >= per_minute:
                raise TooManyRequests(
                    f"{key} reported {len(times)} new machines in the last minute: no more are recorded for now",
                    hint="see [api] new_machines_per_source_per_minute",
                )
            times.append(now)
