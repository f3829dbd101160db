"""``hotfire acquire RIG``: acquire and record a firing."""
from __future__ import annotations

import sys

from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.daq.rig import load_rig
from hotfire.daq.sources import DRIVERS, open_source
from hotfire.daq.sources.engine import SCENARIOS, scenario
from hotfire.errors import HotfireError


def add_arguments(p):
    p.add_argument("rig", help="rig file, or the name of a bundled rig (e.g. lox-ethanol-5kN)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--sim", action="store_const", dest="source", const="simulator",
                     help="use the engine simulator instead of hardware")
    src.add_argument("--source", choices=("simulator", "nidaqmx"),
                     help="where samples come from (default: NI-DAQmx hardware)")
    # Set here, not as --source's default: argparse would take --sim's (None) first.
    p.set_defaults(source="nidaqmx")
    p.add_argument("--driver", choices=DRIVERS, default="hardware",
                   help="NI-DAQmx source: the NI driver (hardware, the default) or the simulated driver (sim), "
                        "which runs the real nidaqmx code on the engine simulator")
    p.add_argument("--trigger", metavar="TERMINAL",
                   help="NI-DAQmx: start on a digital edge at this terminal, e.g. /cDAQ1/PFI0")
    p.add_argument("--ref-clock", metavar="SOURCE", help="NI-DAQmx: shared reference clock, e.g. PXI_Clk10")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="nominal", help="simulated firing scenario")
    p.add_argument("--duration", type=float, metavar="S", help="seconds to acquire (default: the rig's sequence)")
    p.add_argument("--burn", type=float, metavar="S", help="simulated burn duration, seconds")
    p.add_argument("--out", default="runs", metavar="DIR", help="directory for the run file (default: runs)")
    p.add_argument("--test-id", help="test identifier (default: <article serial>-<UTC time>)")
    p.add_argument("--notes", default="", help="operator notes stored with the run")
    p.add_argument("--fast", action="store_true",
                   help="simulator: as fast as possible; simulated driver: 10 x real time")
    p.add_argument("--quiet", action="store_true", help="no progress display")


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
    options = {}
    driver = getattr(args, "driver", "hardware")
    if args.source == "nidaqmx":
        options = {"driver": driver, "trigger": getattr(args, "trigger", None),
                   "ref_clock": getattr(args, "ref_clock", None)}
    elif driver != "hardware" or getattr(args, "trigger", None) or getattr(args, "ref_clock", None):
        raise HotfireError("--driver, --trigger and --ref-clock apply to the NI-DAQmx source, not the simulator")
    source = open_source(rig, args.source, scenario=scen, realtime=realtime, duration_s=args.duration, **options)
    recorder = Recorder(args.out)
    acq = Acquisition(rig, source, [recorder], test_id=args.test_id, notes=args.notes)
    print(f"hotfire: acquiring {rig.name} ({source.kind}) -> {recorder.out_dir / acq.test_id}.h5",
          file=sys.stderr)
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
