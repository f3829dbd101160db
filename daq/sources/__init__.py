"""Sources of samples, chosen in one place: :func:`open_source`."""
from __future__ import annotations

from hotfire.errors import HotfireError

#: source kinds users can choose
KINDS = ("simulator", "nidaqmx", "pattern")


def open_source(rig, kind: str = "simulator", *, scenario=None, realtime: bool = False,
                duration_s: float | None = None, **options):
    """Open the source of samples for ``rig``.

    Parameters
    ----------
    rig : Rig
    kind : {"simulator", "nidaqmx", "pattern"}
        The engine simulator, NI-DAQmx hardware, or the counter pattern
        (tests and benchmarks of the recording path: every value is known).
    scenario : Scenario, optional
        Simulator scenario (ignored by hardware).
    realtime : bool
        Simulator: pace blocks by the wall clock.
    duration_s : float, optional
        Stop after this many seconds (default: the rig's sequence).
    """
    if kind == "simulator":
        from hotfire.daq.sources.sim import SimulatedSource

        return SimulatedSource(rig, scenario, realtime=realtime, duration_s=duration_s, **options)
    if kind == "pattern":
        from hotfire.daq.sources.pattern import PatternSource

        return PatternSource(rig, realtime=realtime, duration_s=duration_s, **options)
    if kind == "nidaqmx":
        raise HotfireError("the NI-DAQmx source is not available in this version; use --sim for the simulator")
    raise HotfireError(f"unknown source {kind!r} (choose from {', '.join(KINDS)})")
