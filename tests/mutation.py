"""Mutation testing (``make mutation``): cosmic-ray over the modules whose numbers users
trust, each against a fast subset of the tests, and the score per module.

Usage::

    python tests/mutation.py [MODULE ...]      # default: every module below
    python tests/mutation.py --list            # the mutants cosmic-ray would make, per module

A mutant is *killed* when its test subset fails (or times out), *survives* when it
passes. Score = killed / (killed + survived), with the equivalent mutants listed in
``EQUIVALENT`` (and docs/testing.md) left out. cosmic-ray edits the module on disk
for each mutant and restores it: run this in a work tree nothing else is using.

The operators are the ones that look like real bugs (mutmut's set): + and -, * and /,
** to *, comparisons moved by one (< to <=, == to !=, in to not in), a condition
negated, True/False, and/or, a number changed by one, break/continue, a loop that
never runs, an exception handler that catches nothing, a decorator removed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PYTEST = [PY, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]

#: module -> its fast test subset
MODULES = {
    "core/scaling.py": ["tests/core/test_scaling.py"],
    "daq/limits.py": ["tests/daq/test_limits_unit.py", "tests/daq/test_limits.py"],
    "analysis/uncertainty.py": ["tests/analysis/test_uncertainty_unit.py"],
    "analysis/thrust.py": ["tests/analysis/test_thrust_truncated.py", "tests/analysis/test_accuracy.py"],
    "analysis/performance.py": ["tests/analysis/test_first_results.py", "tests/analysis/test_accuracy.py"],
    "analysis/stability.py": ["tests/analysis/test_health_stability.py"],
    "core/health.py": ["tests/analysis/test_health.py"],
    "daq/journal/scan.py": ["tests/daq/test_journal.py", "tests/daq/test_power_cut.py"],
    "daq/journal/rows.py": ["tests/daq/test_journal.py", "tests/daq/test_power_cut.py"],
}

KEEP = {
    "ReplaceBinaryOperator_Add_Sub", "ReplaceBinaryOperator_Sub_Add", "ReplaceBinaryOperator_Mul_Div",
    "ReplaceBinaryOperator_Div_Mul", "ReplaceBinaryOperator_Pow_Mul", "ReplaceBinaryOperator_FloorDiv_Div",
    "ReplaceBinaryOperator_Mod_Div",
    "ReplaceComparisonOperator_Lt_LtE", "ReplaceComparisonOperator_LtE_Lt", "ReplaceComparisonOperator_Gt_GtE",
    "ReplaceComparisonOperator_GtE_Gt", "ReplaceComparisonOperator_Eq_NotEq", "ReplaceComparisonOperator_NotEq_Eq",
    "ReplaceComparisonOperator_Is_IsNot", "ReplaceComparisonOperator_IsNot_Is",
    "ReplaceComparisonOperator_In_NotIn", "ReplaceComparisonOperator_NotIn_In",
    "ReplaceUnaryOperator_USub_UAdd", "ReplaceUnaryOperator_Delete_Not",
    "AddNot", "ReplaceTrueWithFalse", "ReplaceFalseWithTrue", "ReplaceAndWithOr", "ReplaceOrWithAnd",
    "ReplaceBreakWithContinue", "ReplaceContinueWithBreak", "ExceptionReplacer", "NumberReplacer",
    "RemoveDecorator", "ZeroIterationForLoop",
}

#: (module, operator, line, column) -> why the mutant cannot change any result (docs/testing.md)
EQUIVALENT: dict[tuple[str, str, int, int], str] = {
    ("core/scaling.py", "NumberReplacer", 82, 61):
        "20001 -> 20000/20002 points in the inverse's search grid: moves a curved inverse by < 1e-6 of the range",
    ("daq/limits.py", "NumberReplacer", 79, 23):
        "the initial run back inside (0 -> 1/-1): a detector starts untripped, and the run restarts at the first sample beyond",
    ("daq/limits.py", "NumberReplacer", 105, 63): "-1 -> -2: any negative mark means 'no confirmed run'",
    ("daq/limits.py", "NumberReplacer", 107, 63): "-1 -> -2: any negative index means 'no mark yet'",
    ("daq/limits.py", "NumberReplacer", 108, 58): "max(last, 0) -> max(last, -1): those entries are masked by last >= 0",
    ("daq/limits.py", "NumberReplacer", 130, 16): "max(1, n) -> max(0, n): Detector clamps min_samples to >= 1 again",
    ("daq/limits.py", "NumberReplacer", 152, 55): "np.where(state, level, 0 -> -1): maximum with a level that starts at 0",
    ("daq/limits.py", "ReplaceComparisonOperator_Gt_GtE", 160, 19): "new == old never happens where the level changed",
    ("daq/limits.py", "ReplaceAndWithOr", 161, 72):
        "a detector of the new level that turned off at the same sample would need the value above max and below min",
    ("daq/limits.py", "ReplaceBinaryOperator_Add_Sub", 162, 75):
        "fallback date, unreachable: a rise always has a detector of the new level that turned on",
    ("daq/limits.py", "ReplaceBinaryOperator_Add_Sub", 165, 75):
        "fallback date, unreachable: a fall always has a detector that turned off",
    ("daq/limits.py", "ReplaceAndWithOr", 175, 52):
        "the first active detector is the same: redline detectors come first, and the others are not tripped",
    ("daq/limits.py", "NumberReplacer", 176, 23): "active[0] -> active[-1]/[1]: one detector of a level is tripped at a time",
    ("daq/limits.py", "ReplaceComparisonOperator_Lt_LtE", 177, 15): "new == old never happens where the level changed",
    ("daq/limits.py", "NumberReplacer", 214, 38): "read-buffer size only: results do not depend on block size",
    ("daq/limits.py", "NumberReplacer", 214, 67): "read-buffer size only: results do not depend on block size",
    ("daq/limits.py", "NumberReplacer", 214, 72): "read-buffer size only: results do not depend on block size",
    ("analysis/uncertainty.py", "ReplaceComparisonOperator_LtE_Lt", 148, 17):
        "an input with u = 0 perturbed by 0 contributes 0 either way",
    ("analysis/uncertainty.py", "NumberReplacer", 148, 20): "u <= -1: an input with u = 0 contributes 0 either way",
    ("analysis/uncertainty.py", "NumberReplacer", 162, 57): "monte_carlo's default draw count",
    ("analysis/uncertainty.py", "NumberReplacer", 162, 75): "monte_carlo's default seed",
    ("analysis/uncertainty.py", "ReplaceComparisonOperator_Gt_GtE", 166, 75): "a normal draw with sd 0 is the value",
    ("analysis/uncertainty.py", "NumberReplacer", 166, 77): "u > -1: a normal draw with sd 0 is the value",
    ("analysis/uncertainty.py", "NumberReplacer", 169, 14): "ys[0].keys() -> ys[1]/ys[-1]: every draw has the same keys",
    ("analysis/uncertainty.py", "NumberReplacer", 171, 78):
        "std ddof 1 -> 0/2: 1/(2n) relative (2.5e-4 at the default 2000 draws), below any Monte Carlo check",
}


def _operators() -> list[str]:
    out = subprocess.run([PY, "-m", "cosmic_ray.cli", "operators"], capture_output=True, text=True, check=True)
    return [ln.strip() for ln in out.stdout.splitlines() if ln.strip()]


def _config(module: str, tests: list[str], work: Path) -> Path:
    excluded = [f"^{op}$" for op in _operators() if op.split("/", 1)[-1] not in KEEP]
    cmd = " ".join(PYTEST + tests)
    cfg = work / "cosmic-ray.toml"
    cfg.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module)}\n"
        "timeout = 120.0\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(cmd)}\n"
        "[cosmic-ray.distributor]\nname = \"local\"\n"
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = {json.dumps(excluded)}\n")
    return cfg


def _cr(*args, cfg=None):
    subprocess.run([PY, "-m", "cosmic_ray.cli", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _session(module: str, work: Path) -> tuple[Path, Path]:
    cfg = _config(module, MODULES[module], work)
    db = work / "session.sqlite"
    _cr("init", str(cfg), str(db))
    subprocess.run([PY, "-m", "cosmic_ray.tools.filters.operators_filter", str(db), str(cfg)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([PY, "-m", "cosmic_ray.tools.filters.pragma_no_mutate", str(db)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    return cfg, db


def _results(db: Path) -> list[tuple[dict, dict | None]]:
    out = subprocess.run([PY, "-m", "cosmic_ray.cli", "dump", str(db)], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    rows = []
    for ln in out.stdout.splitlines():
        item, result = json.loads(ln)
        rows.append((item, result))
    return rows


def _key(module, mutation):
    return (module, mutation["operator_name"].split("/", 1)[-1], mutation["start_pos"][0], mutation["start_pos"][1])


def score(module: str, rows) -> dict:
    killed = survived = equivalent = other = 0
    survivors = []
    for item, result in rows:
        if result is None or result.get("worker_outcome") == "skipped":  # not run, or filtered out
            continue
        for m in item["mutations"]:
            if _key(module, m) in EQUIVALENT:
                equivalent += 1
                break
        else:
            outcome = result.get("test_outcome")
            if outcome == "killed":
                killed += 1
            elif outcome == "survived":
                survived += 1
                survivors.extend(item["mutations"])
            else:
                other += 1  # incompetent (the mutant does not even import)
    done = killed + survived
    return {"module": module, "killed": killed, "survived": survived, "equivalent": equivalent,
            "incompetent": other, "score": killed / done if done else float("nan"), "survivors": survivors}


def main(argv: list[str]) -> int:
    listing = "--list" in argv
    mods = [a for a in argv if not a.startswith("--")] or list(MODULES)
    unknown = [m for m in mods if m not in MODULES]
    if unknown:
        print(f"mutation: no test subset for {', '.join(unknown)} (known: {', '.join(MODULES)})", file=sys.stderr)
        return 2
    table = []
    for module in mods:
        with tempfile.TemporaryDirectory(prefix="hotfire-mutation-") as tmp:
            cfg, db = _session(module, Path(tmp))
            if listing:
                n = sum(1 for _, r in _results(db) if r is None)
                print(f"{module}: {n} mutants")
                continue
            print(f"== {module}: {' '.join(MODULES[module])}", flush=True)
            subprocess.run([PY, "-m", "cosmic_ray.cli", "exec", str(cfg), str(db)], cwd=ROOT, check=True,
                           env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
            s = score(module, _results(db))
            table.append(s)
            for m in s["survivors"]:
                print(f"   survived: {module}:{m['start_pos'][0]}:{m['start_pos'][1]} "
                      f"{m['operator_name'].split('/', 1)[-1]} (occurrence {m['occurrence']})")
            print(f"   {s['killed']} killed, {s['survived']} survived, {s['equivalent']} equivalent, "
                  f"{s['incompetent']} incompetent: score {s['score']:.1%}", flush=True)
    if table:
        print("\n| module | killed | survived | equivalent | score |\n|---|---|---|---|---|")
        for s in table:
            print(f"| {s['module']} | {s['killed']} | {s['survived']} | {s['equivalent']} | {s['score']:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
