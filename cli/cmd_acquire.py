"""``hotfire acquire RIG``: acquire and record a firing."""
from __future__ import annotations

import sys
import threading

from hotfire.daq.acquisition import Acquisition
from hotfire.daq.limits import LimitChecker
from hotfire.daq.preflight import TEST_ID_RULE, check_test_id
from hotfire.daq.publisher import DEFAULT_ADDRESS, Publisher
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import DRIVERS, KINDS, open_source
from hotfire.daq.sources.engine import SCENARIOS, scenario
from hotfire.daq.trigger import Trigger, TriggerSpec
from hotfire.core.errors import HotfireError


def add_arguments(p):
    p.add_argument("rig", help="rig file, or the name of a bundled rig (e.g. lox-ethanol-5kN)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--sim", action="store_const", dest="source", const="simulator",
                     help="use the engine simulator instead of hardware")
    src.add_argument("--source", choices=KINDS,
                     help="where samples come from (default: NI-DAQmx hardware; pattern: a counter "
                          "pattern for testing the recording path)")
    # Set here, not as --source's default: argparse would take --sim's (None) first.
    p.set_defaults(source="nidaqmx")
    p.add_argument("--driver", choices=DRIVERS, default="hardware",
                   help="NI-DAQmx source: the NI driver (hardware, the default) or the simulated driver (sim), "
                        "which runs the real nidaqmx code on the engine simulator")
    p.add_argument("--start-trigger", metavar="TERMINAL",
                   help="NI-DAQmx: start every task on a digital edge at this terminal, e.g. /cDAQ1/PFI0")
    p.add_argument("--ref-clock", metavar="SOURCE", help="NI-DAQmx: shared reference clock, e.g. PXI_Clk10")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="nominal", help="simulated firing scenario")
    p.add_argument("--duration", type=float, metavar="S", help="seconds to acquire (default: the rig's sequence)")
    p.add_argument("--burn", type=float, metavar="S", help="simulated burn duration, seconds")
    p.add_argument("--out", default="runs", metavar="DIR", help="directory for the run file (default: runs)")
    p.add_argument("--test-id", help=f"test identifier, {TEST_ID_RULE} (default: <article serial>-<UTC time>)")
    p.add_argument("--notes", default="", help="operator notes stored with the run")
    p.add_argument("--fast", action="store_true",
                   help="simulator: as fast as possible; simulated driver: 10 x real time")
    p.add_argument("--trigger", metavar="SPEC",
                   help="arm, and start recording on a trigger: T0 (sequencer start / digital start "
                        "trigger), CHANNEL>VALUE or CHANNEL<VALUE (engineering units), or operator (press Enter)")
    p.add_argument("--pretrigger", type=float, default=2.0, metavar="S",
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


def progress_printer(stream=None):
    def show(acq):
        out = stream if stream is not None else sys.stderr  # looked up now: sys.stderr may be replaced
        ref = max(acq.source.streams.values(), key=lambda s: s.n_channels)
        t = acq.rings[ref.name].written / ref.rate_hz
        t0 = next((e for e in acq.events if e.kind == "T0"), None)
        clock = ""
        if t0 is not None:
            dt = t - t0.sample / acq.source.streams[t0.stream].rate_hz
            clock = f"T{'+' if dt >= 0 else '-'}{abs(dt):6.2f} s  "
        counts = "  ".join(f"{s}: {ring.written:,}" for s, ring in acq.rings.items())
        print(f"\r  {clock}{t:7.2f} s recorded  |  {counts}", end="", file=out, flush=True)
    return show


def _operator_trigger_on_enter(acq):
    def wait():
        print("hotfire: armed; press Enter to trigger", file=sys.stderr)
        if sys.stdin.readline() and acq.trigger:
            acq.trigger.fire()
    threading.Thread(target=wait, daemon=True, name="operator-trigger").start()


def acquire(args, realtime: bool):
    if args.test_id is not None:
        check_test_id(args.test_id)  # before anything starts
    rig = load_rig(args.rig)
    scen = scenario(args.scenario, burn_s=args.burn)
    options = {}
    driver = getattr(args, "driver", "hardware")
    if args.source == "nidaqmx":
        options = {"driver": driver, "trigger": getattr(args, "start_trigger", None),
                   "ref_clock": getattr(args, "ref_clock", None)}
    elif driver != "hardware" or getattr(args, "start_trigger", None) or getattr(args, "ref_clock", None):
        raise HotfireError("--driver, --start-trigger and --ref-clock apply to the NI-DAQmx source, "
                           "not the simulator")
    # Bind the live stream first: a busy address fails before the hardware is touched.
    address = getattr(args, "publish", None)
    publisher = Publisher(address) if address else None
    try:
        source = open_source(rig, args.source, scenario=scen, realtime=realtime, duration_s=args.duration, **options)
        subscribers = []
        trigger = None
        if args.trigger:
            trigger = Trigger(TriggerSpec.parse(args.trigger, rig), posttrigger_s=args.posttrigger)
            subscribers.append(trigger)
        recorder = Recorder(args.out, pretrigger_s=args.pretrigger if trigger else None,
                            sync_interval=getattr(args, "sync_interval", 0.1),
                            status_file=getattr(args, "status_file", None))
        subscribers.append(recorder)
        # Redlines are checked here, not in a viewer: every crossing is in the run file.
        subscribers.append(LimitChecker())
        if publisher:
            subscribers.append(publisher)
        # the rings must hold the pre-trigger history
        ring_s = max(20.0, 2 * args.pretrigger) if trigger else 20.0
        acq = Acquisition(rig, source, subscribers, test_id=args.test_id, notes=args.notes, ring_seconds=ring_s)
        recorder.preflight(acq)  # paths, an existing run, free space: before the hardware starts
        if trigger and trigger.spec.kind == "operator":
            _operator_trigger_on_enter(acq)
    except BaseException:
        if publisher:
            publisher.close()
        raise
    print(f"hotfire: acquiring {rig.name} ({source.kind}) -> {recorder.out_dir / acq.test_id}.h5 "
          f"(journal {acq.test_id}.journal/)", file=sys.stderr)
    if publisher:
        print(f"hotfire: live stream on {publisher.address} (watch with: hotfire view --connect "
              f"{publisher.address})", file=sys.stderr)
    summary = acq.run(progress=None if args.quiet else progress_printer())
    if not args.quiet:
        print(file=sys.stderr)
    if summary.error is not None:
        where = summary.path if recorder.sealed else f"the journal {recorder.journal_dir}"
        raise HotfireError(f"acquisition stopped by an error: {summary.error} "
                           f"(everything acquired before it is in {where})")
    if not recorder.sealed:
        raise HotfireError(f"the run file was not completed; every recorded sample is in the journal: "
                           f"run `hotfire recover {recorder.journal_dir}`")
    return rig, summary


def run(args) -> int:
    rig, summary = acquire(args, realtime=not args.fast)
    total = sum(summary.samples.values())
    lost = sum(summary.gaps.values())
    print(f"recorded {total:,} samples in {len(summary.samples)} streams, {lost} lost, "
          f"{len(summary.events)} events -> {summary.path}")
    return 0
