"""Sources of samples, chosen in one place: :func:`open_source`."""
from __future__ import annotations

from hotfire.core.errors import HotfireError

#: source kinds users can choose
KINDS = ("simulator", "nidaqmx", "pattern")
#: NI-DAQmx drivers: the NI library (real hardware), or the simulated driver
DRIVERS = ("hardware", "sim")


def open_source(rig, kind: str = "simulator", *, scenario=None, realtime: bool = False,
                duration_s: float | None = None, driver="hardware", speed: float | None = None, **options):
    """Open the source of samples for ``rig``.

    Parameters
    ----------
    rig : Rig
    kind : {"simulator", "nidaqmx", "pattern"}
        The engine simulator, NI-DAQmx, or the counter pattern (tests and
        benchmarks of the recording path: every value is known).
    scenario : Scenario, optional
        Simulated firing (the simulator, or the simulated NI-DAQmx driver).
    realtime : bool
        Pace by the wall clock (the simulator; the simulated driver runs at
        ``speed`` 1 if set, else 10).
    duration_s : float, optional
        Stop after this many seconds (default: the rig's sequence).
    driver : {"hardware", "sim"} or interpreter
        NI-DAQmx only: the NI driver library, the simulated driver
        (:class:`~hotfire.daq.sources.simdriver.SimulatedDriver`), or a
        driver interpreter instance (e.g. a SimulatedDriver with faults).
    speed : float, optional
        Simulated driver: simulated seconds per wall-clock second.
    **options
        Passed to the source (e.g. ``trigger``, ``ref_clock``, ``buffer_s``
        for NI-DAQmx; ``block_s`` for the simulator).
    """
    if kind == "simulator" or (kind == "nidaqmx" and driver == "sim"):
        from hotfire.core.rig import check_simulatable

        check_simulatable(rig, *(getattr(scenario, k, None) for k in ("pretrigger_s", "burn_s", "posttrigger_s")))
    if kind == "simulator":
        from hotfire.daq.sources.sim import SimulatedSource

        return SimulatedSource(rig, scenario, realtime=realtime, duration_s=duration_s, **options)
    if kind == "pattern":
        from hotfire.daq.sources.pattern import PatternSource

        return PatternSource(rig, realtime=realtime, duration_s=duration_s, **options)
    if kind == "nidaqmx":
        from hotfire.daq.sources.nidaq import NidaqSource

        if driver == "hardware":
            return NidaqSource(rig, duration_s=duration_s, **options)
        if driver == "sim":
            from hotfire.daq.sources.simdriver import SimulatedDriver

            driver = SimulatedDriver(rig, scenario, speed=speed or (1.0 if realtime else 10.0))
        if isinstance(driver, str):
            raise HotfireError(f"unknown NI-DAQmx driver {driver!r} (choose from {', '.join(DRIVERS)})")
        # A driver that plays the stand (the simulated one) also marks its sequence.
        sequencer = driver if hasattr(driver, "sequence_events") else None
        return NidaqSource(rig, interpreter=driver, sequencer=sequencer, duration_s=duration_s, **options)
    raise HotfireError(f"unknown source {kind!r} (choose from {', '.join(KINDS)})")
