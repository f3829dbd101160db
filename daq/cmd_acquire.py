"""``hotfire acquire RIG``: acquire and record a firing."""
from __future__ import annotations

import sys

from hotfire.daq.acquisition import Acquisition
from hotfire.daq.limits import LimitChecker
from hotfire.daq.publisher import DEFAULT_ADDRESS, Publisher
from hotfire.daq.recorder import Recorder
from hotfire.daq.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import SCENARIOS, scenario
from hotfire.errors import HotfireError


def add_arguments(p):
    p.add_argument("rig", help="rig file, or the name of a bundled rig (e.g. lox-ethanol-5kN)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--sim", action="store_const", dest="source", const="simulator",
                     help="use the engine simulator instead of hardware")
    src.add_argument("--source", choices=("simulator", "nidaqmx"), default="nidaqmx",
                     help="where samples come from (default: NI-DAQmx hardware)")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="nominal", help="simulated firing scenario")
    p.add_argument("--duration", type=float, metavar="S", help="seconds to acquire (default: the rig's sequence)")
    p.add_argument("--burn", type=float, metavar="S", help="simulated burn duration, seconds")
    p.add_argument("--out", default="runs", metavar="DIR", help="directory for the run file (default: runs)")
    p.add_argument("--test-id", help="test identifier (default: <article serial>-<UTC time>)")
    p.add_argument("--notes", default="", help="operator notes stored with the run")
    p.add_argument("--fast", action="store_true", help="simulator: run faster than real time")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    pub = p.add_mutually_exclusive_group()
    pub.add_argument("--publish", default=DEFAULT_ADDRESS, metavar="ADDRESS",
                     help=f"ZeroMQ address for live viewers (`hotfire view`) (default: {DEFAULT_ADDRESS})")
    pub.add_argument("--no-publish", dest="publish", action="store_const", const=None,
                     help="do not publish a live stream")


def progress_printer(stream=sys.stderr):
    def show(acq):
        ref = max(acq.source.streams.values(), key=lambda s: s.n_channels)
        t = acq.rings[ref.name].written / ref.rate_hz
        t0 = next((e for e in acq.events if e.kind == "T0"), None)
        clock = ""
        if t0 is not None:
            dt = t - t0.sample / acq.source.streams[t0.stream].rate_hz
            clock = f"T{'+' if dt >= 0 else '-'}{abs(dt):6.2f} s  "
        counts = "  ".join(f"{s}: {ring.written:,}" for s, ring in acq.rings.items())
        print(f"\r  {clock}{t:7.2f} s recorded  |  {counts}", end="", file=stream, flush=True)
    return show


def acquire(args, realtime: bool):
    rig = load_rig(args.rig)
    scen = scenario(args.scenario, burn_s=args.burn)
    # Bind the live stream first: a busy address fails before the hardware is touched.
    address = getattr(args, "publish", None)
    publisher = Publisher(address) if address else None
    source = open_source(rig, args.source, scenario=scen, realtime=realtime, duration_s=args.duration)
    recorder = Recorder(args.out)
    # Redlines are checked here, not in a viewer: every crossing is in the run file.
    subscribers = [recorder, LimitChecker()] + ([publisher] if publisher else [])
    acq = Acquisition(rig, source, subscribers, test_id=args.test_id, notes=args.notes)
    print(f"hotfire: acquiring {rig.name} ({source.kind}) -> {recorder.out_dir / acq.test_id}.h5",
          file=sys.stderr)
    if publisher:
        print(f"hotfire: live stream on {publisher.address} (watch with: hotfire view --connect "
              f"{publisher.address})", file=sys.stderr)
    summary = acq.run(progress=None if args.quiet else progress_printer())
    if not args.quiet:
        print(file=sys.stderr)
    if summary.error is not None:
        raise HotfireError(f"acquisition stopped by an error: {summary.error} "
                           f"(everything acquired before it is in {summary.path})")
    return rig, summary


def run(args) -> int:
    rig, summary = acquire(args, realtime=not args.fast)
    total = sum(summary.samples.values())
    lost = sum(summary.gaps.values())
    print(f"recorded {total:,} samples in {len(summary.samples)} streams, {lost} lost, "
          f"{len(summary.events)} events -> {summary.path}")
    return 0
