"""Sources of samples, chosen in one place by one value: :func:`open_source`.

Like ophyd's control-layer switch, one value says where samples come from,
and nothing else in hotfire asks:

============  ===============================================================
``nidaq``     NI-DAQmx hardware (the NI driver library)
``nidaq-sim`` the real nidaqmx code on the simulated driver (the engine simulator
              behind the NI-DAQmx API, :mod:`~hotfire.daq.sources.simdriver`)
``sim``       the engine simulator (:mod:`~hotfire.daq.sources.sim`)
``pattern``   a counter pattern whose every value is known (tests, benchmarks)
``replay:RUN.h5``  a recorded run file played back (:mod:`~hotfire.daq.sources.replay`)
============  ===============================================================

The run file stores the source's own ``kind`` (``simulator``, ``nidaqmx``,
...); those names are accepted here too (``simulator`` = ``sim``,
``nidaqmx`` = ``nidaq``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hotfire.core.errors import HotfireError

__all__ = ["SOURCES", "SourceChoice", "parse_source", "open_source"]

#: source values users can choose (``replay`` takes a run file: ``replay:RUN.h5``)
SOURCES = ("nidaq", "nidaq-sim", "sim", "pattern", "replay")
#: other names of the same sources (the kinds stored in run files)
ALIASES = {"simulator": "sim", "nidaqmx": "nidaq"}


@dataclass(frozen=True)
class SourceChoice:
    """A source, as chosen: ``kind`` (one of :data:`SOURCES`) and, for replay, the run file."""

    kind: str
    run_file: Path | None = None

    def __str__(self) -> str:
        return f"replay:{self.run_file}" if self.kind == "replay" else self.kind


def parse_source(value: "str | SourceChoice") -> SourceChoice:
    """Read a source value (``nidaq``, ``nidaq-sim``, ``sim``, ``pattern``, ``replay:RUN.h5``).

    Raises
    ------
    HotfireError
        For an unknown source, or ``replay`` without a run file (the message
        lists the choices).
    """
    if isinstance(value, SourceChoice):
        return value
    text = str(value).strip()
    kind, sep, rest = text.partition(":")
    kind = ALIASES.get(kind, kind)
    if kind == "replay":
        if not rest:
            raise HotfireError(f"source {text!r}: replay needs a run file, e.g. replay:runs/LE5-003.h5")
        return SourceChoice("replay", Path(rest))
    if kind not in SOURCES or sep:
        raise HotfireError(f"unknown source {text!r} (choose from nidaq, nidaq-sim, sim, pattern, replay:RUN.h5)")
    return SourceChoice(kind)


def open_source(rig, source: "str | SourceChoice" = "sim", *, scenario=None, realtime: bool = False,
                duration_s: float | None = None, speed: float | None = None, driver=None, **options):
    """Open the source of samples for ``rig``.

    Parameters
    ----------
    rig : Rig
    source : str or SourceChoice
        ``nidaq``, ``nidaq-sim``, ``sim``, ``pattern`` or ``replay:RUN.h5``
        (see the module docstring).
    scenario : Scenario, optional
        Simulated firing (``sim``, ``nidaq-sim``).
    realtime : bool
        Pace by the wall clock: the simulator, the pattern and a replay
        deliver blocks as hardware would; the simulated driver runs at
        ``speed`` 1 if set, else 10. Without it they run as fast as they can.
    duration_s : float, optional
        Stop after this many seconds (default: the rig's sequence, or the
        whole recorded run).
    speed : float, optional
        ``nidaq-sim`` and ``replay``: simulated (or recorded) seconds per
        wall-clock second; overrides ``realtime``.
    driver : SimulatedDriver, optional
        ``nidaq-sim`` only: the simulated driver to use (e.g. one with
        injected faults) instead of a new one.
    **options
        Passed to the source (e.g. ``trigger``, ``ref_clock``, ``buffer_s``
        for NI-DAQmx; ``block_s`` for the simulator, the pattern and replay).

    Raises
    ------
    HotfireError
        Unknown source, no NI-DAQmx driver, an unreadable run file, or a rig
        the replayed run does not fit (the message says which).
    """
    choice = parse_source(source)
    kind = choice.kind
    if driver is not None and kind != "nidaq-sim":
        raise HotfireError(f"a simulated driver applies to the nidaq-sim source, not {kind}")
    if kind in ("sim", "nidaq-sim"):
        from hotfire.core.rig import check_simulatable

        check_simulatable(rig, *(getattr(scenario, k, None) for k in ("pretrigger_s", "burn_s", "posttrigger_s")))
    if kind == "sim":
        from hotfire.daq.sources.sim import SimulatedSource

        return SimulatedSource(rig, scenario, realtime=realtime, duration_s=duration_s, **options)
    if kind == "pattern":
        from hotfire.daq.sources.pattern import PatternSource

        return PatternSource(rig, realtime=realtime, duration_s=duration_s, **options)
    if kind == "replay":
        from hotfire.daq.sources.replay import ReplaySource

        return ReplaySource(rig, choice.run_file, speed=speed if speed is not None else (1.0 if realtime else None),
                            duration_s=duration_s, **options)
    from hotfire.daq.sources.nidaq import NidaqSource

    if kind == "nidaq":
        return NidaqSource(rig, duration_s=duration_s, **options)
    from hotfire.daq.sources.simdriver import SimulatedDriver

    if driver is None:
        driver = SimulatedDriver(rig, scenario, speed=speed or (1.0 if realtime else 10.0))
    elif not isinstance(driver, SimulatedDriver):
        raise HotfireError(f"nidaq-sim: driver must be a SimulatedDriver, not {type(driver).__name__}")
    # The simulated driver plays the whole stand: it also marks the sequence.
    return NidaqSource(rig, interpreter=driver, sequencer=driver, duration_s=duration_s, **options)
