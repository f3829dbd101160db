"""Simulated firings shared by the analysis tests (the ``firings`` fixture):
each (rig, scenario) is acquired once per session, through the real
acquisition engine and recorder, and analysed once; tests compare with the
noise-free model's truth."""
from __future__ import annotations

import zlib

from hotfire.daq.sources import simtruth
from hotfire.analysis.results import analyze_run
from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig, parse_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario

RIGS = ("lox-ethanol-5kN", "lox-rp1-100kN")
SCENARIOS = ("nominal", "throttled", "hard-start", "unstable", "failed-sensor")
# Short sequences keep the suite fast; the throttle profile needs its full 4 s.
SHORT = {"pretrigger_s": 1.6, "posttrigger_s": 1.0}
BURN = {"throttled": None}


def scenario_for(name, **extra):
    kw = dict(SHORT)
    burn = BURN.get(name, 2.5)
    if burn:
        kw["burn_s"] = burn
    kw.update(extra)
    return scenario(name, **kw)


def tank_rig():
    """The 5 kN rig with tank weigh scales instead of flow meters."""
    rig = load_rig("lox-ethanol-5kN")
    text = rig.text
    start = text.index("[channels.FM-OX]")
    end = text.index("[channels.V-OX-POS]")
    scales = '''[channels.WT-OX]
stream = "main"
physical = "cDAQ1Mod4/ai2"
kind = "bridge"
range = [-3.0, 3.0]
excitation_V = 10.0
calibration = { type = "bridge", capacity = 50.0, rated_output_mV_V = 3.0 }
units = "kg"
role = "ox_tank_mass"
uncertainty = { reading_percent = 0.05, fs_percent = 0.02 }

[channels.WT-F]
stream = "main"
physical = "cDAQ1Mod4/ai3"
kind = "bridge"
range = [-3.0, 3.0]
excitation_V = 10.0
calibration = { type = "bridge", capacity = 50.0, rated_output_mV_V = 3.0 }
units = "kg"
role = "fuel_tank_mass"
uncertainty = { reading_percent = 0.05, fs_percent = 0.02 }

'''
    text = text[:start] + scales + text[end:]
    return parse_rig(text.replace('name = "lox-ethanol-5kN"', 'name = "lox-ethanol-5kN-tanks"'), "<tank rig>")


class Firing:
    """One simulated run, analysed, with its truth."""

    def __init__(self, path):
        self.path = path
        with open_run(path) as run:
            self.results = analyze_run(run)
            self.perf = self.results.performance
            self.stability = self.results.stability
            self.truth = simtruth.thrust_truth(run) if self.perf else None
            self.window_truth = [simtruth.window_truth(run, (w.start_s, w.end_s)) for w in self.perf.plateaus] \
                if self.perf else []
            self.summary_truth = run.truth


class Firings:
    def __init__(self, root):
        self.root = root
        self._cache = {}

    def path(self, rig_name, scen_name, **extra):
        key = (rig_name, scen_name, tuple(sorted(extra.items())))
        if key not in self._cache:
            rig = tank_rig() if rig_name == "tanks" else load_rig(rig_name)
            tid = f"{rig_name}-{scen_name}" + "".join(f"-{k}-{v}" for k, v in sorted(extra.items()))
            if len(tid) > 100:  # test ids name files: long override lists get a digest
                tid = f"{rig_name}-{scen_name}-{zlib.crc32(tid.encode()):08x}"
            src = open_source(rig, "simulator", scenario=scenario_for(scen_name, **extra))
            summary = Acquisition(rig, src, [Recorder(self.root)], test_id=tid).run()
            assert summary.error is None
            self._cache[key] = summary.path
        return self._cache[key]

    def get(self, rig_name, scen_name, **extra) -> Firing:
        key = ("analysed", rig_name, scen_name, tuple(sorted(extra.items())))
        if key not in self._cache:
            self._cache[key] = Firing(self.path(rig_name, scen_name, **extra))
        return self._cache[key]
