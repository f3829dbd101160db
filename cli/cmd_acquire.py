"""``hotfire acquire RIG``: acquire and record a firing."""
from __future__ import annotations

import argparse
import re
import socket
import sys
import threading

from hotfire.acqconsole import AcquireConsole
from hotfire.core.errors import HotfireError
from hotfire.daq.preflight import TEST_ID_RULE
from hotfire.daq.publisher import DEFAULT_ADDRESS
from hotfire.daq.session import prepare_firing
from hotfire.daq.sources import ALIASES, parse_source
from hotfire.daq.sources.engine import NOISE, SCENARIOS, scenario

#: old spellings of --source: option (and value) -> the source, and the note printed when used
_OLD = {"--sim": "sim", "--driver sim": "nidaq-sim", "--driver hardware": "nidaq"}


class _OldSource(argparse.Action):
    """An old spelling of ``--source``: sets it, remembering the spelling for a deprecation note."""

    def __call__(self, parser, namespace, values, option_string=None):
        spelling = f"{option_string} {values}" if isinstance(values, str) else option_string
        if spelling not in _OLD:
            parser.error(f"argument {option_string}: invalid choice {values!r} (choose from hardware, sim)")
        namespace.source_spellings = [*getattr(namespace, "source_spellings", []), (spelling, _OLD[spelling])]


def add_arguments(p):
    p.add_argument("rig", nargs="?",
                   help="rig file, or the name of a bundled rig (e.g. lox-ethanol-5kN); "
                        "with --source replay:RUN.h5 it defaults to the rig stored in the run")
    p.add_argument("--source", metavar="SOURCE",
                   help="where samples come from: nidaq (NI-DAQmx hardware, the default), nidaq-sim (the real "
                        "nidaqmx code on the simulated driver), sim (the engine simulator), pattern (a counter "
                        "pattern for testing the recording path), or replay:RUN.h5 (a recorded run played back, paced "
                        "as recorded unless --fast); --sim and --driver are its deprecated old spellings")
    p.add_argument("--sim", nargs=0, action=_OldSource, help=argparse.SUPPRESS)
    p.add_argument("--driver", action=_OldSource, help=argparse.SUPPRESS)
    p.add_argument("--start-trigger", metavar="TERMINAL",
                   help="NI-DAQmx: start every task on a digital edge at this terminal, e.g. /cDAQ1/PFI0")
    p.add_argument("--ref-clock", metavar="SOURCE", help="NI-DAQmx: shared reference clock, e.g. PXI_Clk10")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="nominal", help="simulated firing scenario")
    p.add_argument("--noise", choices=list(NOISE), default="clean",
                   help="simulated stand noise on the analog channels (white, 1/f, mains, spikes, drift, roughness)")
    p.add_argument("--duration", type=float, metavar="S", help="seconds to acquire (default: the rig's sequence)")
    p.add_argument("--burn", type=float, metavar="S", help="simulated burn duration, seconds")
    p.add_argument("--out", default="runs", metavar="DIR", help="directory for the run file (default: runs)")
    p.add_argument("--test-id", help=f"test identifier, {TEST_ID_RULE} (default: <article serial>-<UTC time>)")
    p.add_argument("--notes", default="", help="operator notes stored with the run")
    p.add_argument("--fast", action="store_true",
                   help="simulator, pattern, replay: as fast as possible; simulated driver: 10 x real time")
    p.add_argument("--speed", type=float, metavar="X",
                   help="nidaq-sim, replay: simulated or recorded seconds per wall-clock second")
    p.add_argument("--trigger", metavar="SPEC",
                   help="arm, and start recording on a trigger: T0 (sequencer start / digital start "
                        "trigger), CHANNEL>VALUE or CHANNEL<VALUE (engineering units), or operator (press Enter)")
    p.add_argument("--pretrigger", type=float, metavar="S",
                   help="with --trigger: seconds of history before the trigger to record (default 2)")
    p.add_argument("--posttrigger", type=float, metavar="S",
                   help="with --trigger: stop this many seconds after the trigger")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--sync-interval", type=float, default=0.1, metavar="S",
                   help="journal fdatasync interval: at most this much data is lost on a power cut (default 0.1)")
    p.add_argument("--status-file", metavar="FILE",
                   help="append a JSON line with the journal's synced and written sample counts whenever "
                        "they change (monitoring, tests)")
    pub = p.add_mutually_exclusive_group()
    pub.add_argument("--publish", default=DEFAULT_ADDRESS, metavar="ADDRESS",
                     help=f"ZeroMQ address for live viewers (`hotfire view`) (default: {DEFAULT_ADDRESS})")
    pub.add_argument("--no-publish", dest="publish", action="store_const", const=None,
                     help="do not publish a live stream")
    p.add_argument("--keys", metavar="DIR", default=None,
                   help="CurveZMQ key folder (`hotfire keys`): encrypt the live stream and serve only the viewers "
                        "whose keys are in DIR/clients/; needed to publish on a network address (tcp://0.0.0.0:PORT)")


def _operator_trigger_on_enter(trigger, console):
    def wait():
        console.say("hotfire: armed; press Enter to trigger")
        if sys.stdin.readline():
            trigger.fire()
    threading.Thread(target=wait, daemon=True, name="operator-trigger").start()


def source_of(args):
    """The one source ``args`` choose (``--source``, or an old spelling with its deprecation note)."""
    chosen = [(f"--source {args.source}", args.source)] if args.source else []
    for spelling, value in getattr(args, "source_spellings", []):
        print(f"hotfire: {spelling} is deprecated; use --source {value}", file=sys.stderr)
        chosen.append((spelling, value))
    if args.source:
        kind = args.source.partition(":")[0]
        if kind in ALIASES:
            print(f"hotfire: --source {kind} is deprecated; use --source {ALIASES[kind]}", file=sys.stderr)
    values = {str(parse_source(v)) for _, v in chosen}
    if len(values) > 1:
        raise HotfireError(f"{' and '.join(s for s, _ in chosen)} choose different sources: give one --source")
    return parse_source(chosen[0][1] if chosen else "nidaq")


def acquire(args, realtime: bool):
    given = [f"--{o}" for o in ("pretrigger", "posttrigger") if getattr(args, o) is not None]
    if given and not args.trigger:
        raise HotfireError(f"{' and '.join(given)} set{'s' if len(given) == 1 else ''} the recording around a "
                           f"trigger: give --trigger too (T0, CHANNEL>VALUE, CHANNEL<VALUE or operator)")
    choice = source_of(args)
    options = {}
    if choice.kind in ("nidaq", "nidaq-sim"):
        options = {"trigger": args.start_trigger, "ref_clock": args.ref_clock}
    elif args.start_trigger or args.ref_clock:
        raise HotfireError(f"--start-trigger and --ref-clock apply to the NI-DAQmx sources, not {choice.kind}")
    firing = prepare_firing(
        args.rig, source=choice, out=args.out, test_id=args.test_id, notes=args.notes,
        scenario=scenario(args.scenario, burn_s=args.burn, **NOISE[args.noise]), realtime=realtime, duration_s=args.duration,
        speed=args.speed, trigger=args.trigger, pretrigger_s=2.0 if args.pretrigger is None else args.pretrigger, posttrigger_s=args.posttrigger,
        publish=args.publish, sync_interval=args.sync_interval, status_file=args.status_file,
        source_options=options, publish_keys=args.keys)
    console = AcquireConsole(quiet=args.quiet)
    if firing.trigger and firing.trigger.spec.kind == "operator":
        _operator_trigger_on_enter(firing.trigger, console)
    return firing.rig, record(firing, console)


def record(firing, console: AcquireConsole | None = None):
    """Say what is recorded where, record (events and progress on stderr), and return the RunSummary."""
    console = console or AcquireConsole()
    tid = firing.acquisition.test_id
    print(f"hotfire: acquiring {firing.rig.name} ({firing.source.kind}) -> {firing.run_file} "
          f"(journal {tid}.journal/)", file=sys.stderr)
    if firing.publisher:
        keyed = " --keys DIR --key NAME" if firing.publisher.gate else ""
        # bound to every interface: a viewer elsewhere connects to this computer's name
        watch = re.sub(r"^tcp://(0\.0\.0\.0|\[::\]|\*):", f"tcp://{socket.gethostname()}:", firing.publisher.address)
        print(f"hotfire: live stream on {firing.publisher.address}{' (CurveZMQ)' if keyed else ''} (watch with: "
              f"hotfire view --connect {watch}{keyed})", file=sys.stderr)
    try:
        return firing.run(progress=console)
    finally:
        console.close()


def recorded_line(summary) -> str:
    """What the sealed run file holds, per stream (with a trigger it holds less than was acquired)."""
    from hotfire.core.runfile.reader import open_run

    with open_run(summary.path) as r:
        counts = ", ".join(f"{s.name} {s.rows:,} ({s.rows / s.rate_hz:.2f} s)" for s in r.streams.values())
    lost = sum(summary.gaps.values())
    kinds = [e.kind for e in summary.events]
    flagged = [f"{kinds.count(k)} {k}{'s' if kinds.count(k) > 1 else ''}"
               for k in ("redline", "warning", "sensor", "alarm", "driver_error") if k in kinds]
    return (f"recorded {counts}; {lost:,} samples lost; {len(kinds)} events"
            f"{' (' + ', '.join(flagged) + ')' if flagged else ''} -> {summary.path}")


def run(args) -> int:
    rig, summary = acquire(args, realtime=not args.fast)
    print(recorded_line(summary))
    return 0
