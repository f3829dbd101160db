"""Record one firing: the rig, a source, an optional trigger, the recorder,
the limit checker and the live publisher, put together in one place.

``hotfire acquire``, ``hotfire demo`` and scripts all record through
:func:`record_firing` (or, to say something between set-up and the run,
:func:`prepare_firing` then :meth:`Firing.run`)::

    from hotfire.daq.session import record_firing

    summary = record_firing("lox-ethanol-5kN", source="sim", out="runs", publish=None)
    print(summary.path, summary.samples)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hotfire.core.errors import HotfireError
from hotfire.core.rig import Rig, load_rig
from hotfire.daq.acquisition import Acquisition, RunSummary
from hotfire.daq.limits import LimitChecker
from hotfire.daq.preflight import check_test_id
from hotfire.daq.publisher import Publisher
from hotfire.daq.recorder import Recorder
from hotfire.daq.sensorwatch import SensorWatch
from hotfire.daq.sources import SourceChoice, open_source, parse_source
from hotfire.daq.sources.base import Source
from hotfire.daq.sources.engine import Scenario, scenario as named_scenario
from hotfire.daq.trigger import Trigger, TriggerSpec

__all__ = ["Firing", "prepare_firing", "record_firing"]

#: ring capacity per stream, seconds (an armed run keeps at least twice its pre-trigger history)
RING_SECONDS = 20.0


@dataclass
class Firing:
    """A firing ready to record: what :func:`prepare_firing` put together.

    Attributes
    ----------
    rig : Rig
    source : Source
    acquisition : Acquisition
    recorder : Recorder
    trigger : Trigger or None
        Armed runs; ``trigger.fire()`` fires an ``operator`` trigger.
    publisher : Publisher or None
    """

    rig: Rig
    source: Source
    acquisition: Acquisition
    recorder: Recorder
    trigger: Trigger | None = None
    publisher: Publisher | None = None

    @property
    def run_file(self) -> Path:
        """Where the run file will be."""
        return self.recorder.out_dir / f"{self.acquisition.test_id}.h5"

    def run(self, progress=None) -> RunSummary:
        """Acquire until the source ends (or the post-trigger time has passed) and seal the run file.

        Parameters
        ----------
        progress : callable, optional
            Called as ``progress(view)`` about twice a second (an
            :class:`~hotfire.daq.acquisition.AcquisitionView`).

        Raises
        ------
        HotfireError
            The acquisition stopped on an error, or the run file was not
            completed (the message says where the recorded samples are).
        """
        summary = self.acquisition.run(progress=progress)
        rec = self.recorder
        if summary.error is not None:
            where = summary.path if rec.sealed else f"the journal {rec.journal_dir}"
            raise HotfireError(f"acquisition stopped by an error: {summary.error} "
                               f"(everything acquired before it is in {where})")
        if not rec.sealed:
            raise HotfireError(f"the run file was not completed; every recorded sample is in the journal: "
                               f"run `hotfire recover {rec.journal_dir}`")
        return summary


def _rig_for(rig, choice: SourceChoice) -> Rig:
    if isinstance(rig, Rig):
        return rig
    if rig is None:
        if choice.kind != "replay":
            raise HotfireError(f"source {choice}: name the rig (only a replay can take it from its run file)")
        from hotfire.core.runfile.reader import open_run

        with open_run(choice.run_file) as run:
            return run.rig
    return load_rig(rig)


def prepare_firing(rig: "Rig | str | Path | None", *, source: "str | SourceChoice" = "sim", out="runs",
                   test_id: str | None = None, notes: str = "", scenario: "Scenario | str | None" = None,
                   realtime: bool = False, duration_s: float | None = None, speed: float | None = None,
                   trigger: "TriggerSpec | str | None" = None, pretrigger_s: float = 2.0,
                   posttrigger_s: float | None = None, publish: str | None = None, sync_interval: float = 0.1,
                   status_file=None, source_options: dict | None = None, publish_keys=None) -> Firing:
    """Put a firing together without starting it (see :func:`record_firing` for the parameters).

    The test id is checked first, then the live stream is bound, so a bad id
    or a busy address fails before the hardware is touched; the recorder's
    checks (an existing run, free space) run before the source starts.
    """
    if test_id is not None:
        check_test_id(test_id)
    choice = parse_source(source)
    rig = _rig_for(rig, choice)
    if isinstance(scenario, str):
        scenario = named_scenario(scenario)
    spec = TriggerSpec.parse(trigger, rig) if isinstance(trigger, str) else trigger
    publisher = Publisher(publish, keys=publish_keys) if publish else None
    src = None
    try:
        src = open_source(rig, choice, scenario=scenario, realtime=realtime, duration_s=duration_s, speed=speed,
                          **(source_options or {}))
        subscribers = []
        trig = None
        if spec is not None:
            trig = Trigger(spec, posttrigger_s=posttrigger_s)
            subscribers.append(trig)
        recorder = Recorder(out, pretrigger_s=pretrigger_s if trig else None, sync_interval=sync_interval,
                            status_file=status_file)
        subscribers.append(recorder)
        # Redlines are checked here, not in a viewer: every crossing is in the run file.
        subscribers.append(LimitChecker())
        subscribers.append(SensorWatch())
        if publisher:
            subscribers.append(publisher)
        # the rings must hold the pre-trigger history
        ring_s = max(RING_SECONDS, 2 * pretrigger_s) if trig else RING_SECONDS
        acq = Acquisition(rig, src, subscribers, test_id=test_id, notes=notes, ring_seconds=ring_s)
        recorder.preflight(acq.view)  # paths, an existing run, free space: before the hardware starts
    except BaseException:
        if src is not None:
            src.stop()
        if publisher:
            publisher.close()
        raise
    return Firing(rig, src, acq, recorder, trig, publisher)


def record_firing(rig: "Rig | str | Path | None", *, source: "str | SourceChoice" = "sim", out="runs",
                  test_id: str | None = None, notes: str = "", scenario: "Scenario | str | None" = None,
                  realtime: bool = False, duration_s: float | None = None, speed: float | None = None,
                  trigger: "TriggerSpec | str | None" = None, pretrigger_s: float = 2.0,
                  posttrigger_s: float | None = None, publish: str | None = None, sync_interval: float = 0.1,
                  status_file=None, source_options: dict | None = None, progress=None) -> RunSummary:
    """Record one firing to ``out/<test id>.h5`` (and its journal), checking redlines as it goes.

    Parameters
    ----------
    rig : Rig, str or Path
        A rig, a rig file, or the name of a bundled rig. None with a replay
        source: the rig stored in the run file.
    source : str or SourceChoice
        ``nidaq``, ``nidaq-sim``, ``sim``, ``pattern`` or ``replay:RUN.h5``
        (:func:`hotfire.daq.sources.open_source`).
    out : str or Path
        Directory for the run file and its journal.
    test_id : str, optional
        Default ``<article serial>-<UTC start time>``.
    notes : str
        Operator notes stored with the run.
    scenario : Scenario or str, optional
        Simulated firing (``sim``, ``nidaq-sim``), or its name.
    realtime : bool
        Pace the simulator, pattern or replay by the wall clock (the simulated
        driver: 1 x instead of 10 x real time).
    duration_s : float, optional
        Seconds to acquire (default: the rig's sequence or the whole replay).
    speed : float, optional
        ``nidaq-sim`` and ``replay``: simulated or recorded seconds per second.
    trigger : TriggerSpec or str, optional
        Arm, and record from ``pretrigger_s`` before the trigger: ``T0``,
        ``CHANNEL>VALUE``, ``CHANNEL<VALUE`` or ``operator``
        (:class:`hotfire.daq.trigger.TriggerSpec`).
    pretrigger_s, posttrigger_s : float
        With a trigger: history kept before it; stop this long after it.
    publish : str, optional
        ZeroMQ address of the live stream (None: no live stream).
    sync_interval : float
        Journal fdatasync interval: at most this much data is lost on a power cut.
    status_file : str or Path, optional
        Append a JSON line of the journal's synced and written counts as they change.
    source_options : dict, optional
        Passed to the source (e.g. ``trigger``, ``ref_clock`` for NI-DAQmx).
    progress : callable, optional
        Called as ``progress(view)`` about twice a second.

    Returns
    -------
    RunSummary
        The sealed run file, samples per stream, events, samples lost.

    Raises
    ------
    HotfireError
        Bad rig, source or trigger; the acquisition stopped on an error; or
        the run file was not completed (the message says where the samples are).
    """
    firing = prepare_firing(rig, source=source, out=out, test_id=test_id, notes=notes, scenario=scenario,
                            realtime=realtime, duration_s=duration_s, speed=speed, trigger=trigger,
                            pretrigger_s=pretrigger_s, posttrigger_s=posttrigger_s, publish=publish,
                            sync_interval=sync_interval, status_file=status_file, source_options=source_options)
    return firing.run(progress=progress)
