"""Mutation testing (``make mutation``): cosmic-ray over the modules whose numbers users
trust, each against a fast subset of the tests, and the score per module.

Usage::

    python tests/mutation.py [MODULE ...]      # run (or resume) the sessions, print the table
    python tests/mutation.py --list            # how many mutants cosmic-ray would make, per module
    python tests/mutation.py --score [MODULE ...]    # the table from the kept sessions, nothing run
    python tests/mutation.py --recheck [MODULE ...]  # run the survivors again (after new tests)
    python tests/mutation.py --fresh [MODULE ...]    # forget the kept sessions, run every mutant

A mutant is *killed* when its test subset fails (or times out), *survives* when it
passes. Score = killed / (killed + survived), with the equivalent mutants listed in
``EQUIVALENT`` (and docs/testing.md) left out. cosmic-ray edits the module on disk
for each mutant and restores it: run this in a work tree nothing else is using, and do
not rebase or edit the module while a session runs.

Sessions are kept in ``.mutation/`` (one cosmic-ray database per module, with the
sha256 of the module it was made from): an interrupted run resumes where it stopped,
a module that changed (a rebase) gets a new session, and a changed test subset applies
to the mutants not run yet (``--recheck`` for the survivors, ``--fresh`` for all). Equivalent mutants are keyed
by the text of their source line, so they still match after lines move; an entry that
matches no mutant of the current source is printed as stale (the line changed: judge
it again). The process lowers its own priority (``nice`` 19) and runs one mutant at a
time: the machine is shared.

The operators are the ones that look like real bugs (mutmut's set): + and -, * and /,
** to *, comparisons moved by one (< to <=, == to !=, in to not in), a condition
negated, True/False, and/or, a number changed by one, break/continue, a loop that
never runs, an exception handler that catches nothing, a decorator removed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".mutation"
PY = sys.executable
#: the plugins a subset does not need cost ~1 s of start-up per mutant (qt, hypothesis)
PYTEST = [PY, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:qt",
          "-p", "no:hypothesispytest"]
#: seconds one mutant's subset may take before it counts as killed (a mutant that hangs)
TIMEOUT = 60.0

#: module -> its fast test subset (the fastest, most direct tests first: ``-x`` stops at the first failure)
MODULES = {
    "core/scaling.py": ["tests/core/test_scaling.py"],
    "daq/limits.py": ["tests/daq/test_limits_unit.py", "tests/daq/test_limits.py"],
    "analysis/uncertainty.py": ["tests/analysis/test_uncertainty_unit.py"],
    "analysis/thrust.py": ["tests/analysis/test_thrust_truncated.py", "tests/analysis/test_accuracy.py"],
    "analysis/performance.py": ["tests/analysis/test_first_results.py", "tests/analysis/test_accuracy.py"],
    "analysis/stability.py": ["tests/analysis/test_stability_unit.py", "tests/analysis/test_stability_more_unit.py",
                              "tests/analysis/test_health_stability.py::test_spectra_are_scipys_spectrogram_and_welch"],
    "core/health.py": ["tests/core/test_health_unit.py", "tests/analysis/test_health.py"],
    "daq/journal/scan.py": ["tests/daq/test_journal_scan_unit.py", "tests/daq/test_journal.py",
                            "tests/daq/test_journal_resync.py"],
    "daq/journal/rows.py": ["tests/daq/test_journal_rows_unit.py", "tests/daq/test_journal.py",
                            "tests/daq/test_journal_resync.py"],
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

#: (module, operator, column in the stripped line, the stripped source line) -> why the mutant cannot
#: change any result (docs/testing.md). Keyed by the line's text, not its number, so that it
#: survives edits elsewhere in the module; an entry that matches no mutant is reported as stale.
#: A line whose text is not unique in the module is keyed by the line before it too ("prev\nline").
EQUIVALENT: dict[tuple[str, str, int, str], str] = {
    ('analysis/stability.py', 'NumberReplacer', 11,
     'step = max(1, (1 << 20) // (4 * nperseg))  # ~1 MiB of segments per batch'):
        'the batch of segments per FFT call (~1 MiB): each segment is transformed alone, so any batch >= 1 gives the same spectra (0 only above 3.3 MHz)',
    ('analysis/stability.py', 'NumberReplacer', 15,
     'step = max(1, (1 << 20) // (4 * nperseg))  # ~1 MiB of segments per batch'):
        'the batch of segments per FFT call (~1 MiB): each segment is transformed alone, so any batch >= 1 gives the same spectra (0 only above 3.3 MHz)',
    ('analysis/stability.py', 'NumberReplacer', 20,
     'step = max(1, (1 << 20) // (4 * nperseg))  # ~1 MiB of segments per batch'):
        'the batch of segments per FFT call (~1 MiB): each segment is transformed alone, so any batch >= 1 gives the same spectra (0 only above 3.3 MHz)',
    ('analysis/stability.py', 'NumberReplacer', 28,
     'step = max(1, (1 << 20) // (4 * nperseg))  # ~1 MiB of segments per batch'):
        'the batch of segments per FFT call (~1 MiB): each segment is transformed alone, so any batch >= 1 gives the same spectra (0 only above 3.3 MHz)',
    ('core/scaling.py', 'NumberReplacer', 53,
     'grid = np.linspace(signal_range[0], signal_range[1], 20001)'):
        "20001 -> 20000/20002 points in the inverse's search grid: moves a curved inverse by < 1e-6 of the range",
    ('daq/limits.py', 'NumberReplacer', 15,
     'self._run_in = 0   # run of samples back inside the hysteresis band'):
        'the initial run back inside (0 -> 1/-1): a detector starts untripped, and the run restarts at the first sample beyond',
    ('daq/limits.py', 'NumberReplacer', 55,
     'mark = np.where(r_out >= n, 1, np.where(r_in >= n, 0, -1))'):
        "-1 -> -2: any negative mark means 'no confirmed run'",
    ('daq/limits.py', 'NumberReplacer', 55,
     'last = np.maximum.accumulate(np.where(mark >= 0, idx, -1))'):
        "-1 -> -2: any negative index means 'no mark yet'",
    ('daq/limits.py', 'NumberReplacer', 50,
     'state = np.where(last >= 0, mark[np.maximum(last, 0)] == 1, self.state)'):
        'max(last, 0) -> max(last, -1): those entries are masked by last >= 0',
    ('daq/limits.py', 'NumberReplacer', 8,
     'n = max(1, int(round(min_duration_s * rate_hz)))'):
        'max(1, n) -> max(0, n): Detector clamps min_samples to >= 1 again',
    ('daq/limits.py', 'NumberReplacer', 43,
     'np.maximum(level, np.where(state, d.level, 0).astype(np.int8), out=level)'):
        'np.where(state, level, 0 -> -1): maximum with a level that starts at 0',
    ('daq/limits.py', 'ReplaceComparisonOperator_Gt_GtE', 7,
     'if new > old:'):
        'new == old never happens where the level changed',
    ('daq/limits.py', 'ReplaceAndWithOr', 56,
     'starts = [start[i] for d, st, start in changed if st[i] and d.level == new]'):
        'a detector of the new level that turned off at the same sample would need the value above max and below min',
    ('daq/limits.py', 'ReplaceBinaryOperator_Add_Sub', 59,
     'sample = sample0 + int(min(starts)) if starts else sample0 + int(i)'):
        'fallback date, unreachable: a rise always has a detector of the new level that turned on',
    ('daq/limits.py', 'ReplaceBinaryOperator_Add_Sub', 59,
     'sample = sample0 + int(max(starts)) if starts else sample0 + int(i)'):
        'fallback date, unreachable: a fall always has a detector that turned off',
    ('daq/limits.py', 'ReplaceAndWithOr', 44,
     'active = [d for d, st, _, _ in fed if st[i] and d.level == new]'):
        'the first active detector is the same: redline detectors come first, and the others are not tripped',
    ('daq/limits.py', 'NumberReplacer', 15,
     'bound = active[0].describe(self.units) if active else ""'):
        'active[0] -> active[-1]/[1]: one detector of a level is tripped at a time',
    ('daq/limits.py', 'ReplaceComparisonOperator_Lt_LtE', 7,
     'if new < old:'):
        'new == old never happens where the level changed',
    ('daq/limits.py', 'NumberReplacer', 30,
     'self.bufs = {s: np.empty((max(1, min(r.ring.capacity // 4, 1 << 16)), r.ring.n_channels), r.ring.dtype)'):
        'read-buffer size only: results do not depend on block size',
    ('daq/limits.py', 'NumberReplacer', 59,
     'self.bufs = {s: np.empty((max(1, min(r.ring.capacity // 4, 1 << 16)), r.ring.n_channels), r.ring.dtype)'):
        'read-buffer size only: results do not depend on block size',
    ('daq/limits.py', 'NumberReplacer', 64,
     'self.bufs = {s: np.empty((max(1, min(r.ring.capacity // 4, 1 << 16)), r.ring.n_channels), r.ring.dtype)'):
        'read-buffer size only: results do not depend on block size',
    ('analysis/uncertainty.py', 'ReplaceComparisonOperator_LtE_Lt', 9,
     'if inp.u <= 0:'):
        'an input with u = 0 perturbed by 0 contributes 0 either way',
    ('analysis/uncertainty.py', 'NumberReplacer', 12,
     'if inp.u <= 0:'):
        'u <= -1: an input with u = 0 contributes 0 either way',
    ('analysis/uncertainty.py', 'NumberReplacer', 57,
     'def monte_carlo(func, inputs: dict[str, Input], n: int = 2000, seed: int = 0) -> tuple[dict, dict]:'):
        "monte_carlo's default draw count",
    ('analysis/uncertainty.py', 'NumberReplacer', 75,
     'def monte_carlo(func, inputs: dict[str, Input], n: int = 2000, seed: int = 0) -> tuple[dict, dict]:'):
        "monte_carlo's default seed",
    ('analysis/uncertainty.py', 'ReplaceComparisonOperator_Gt_GtE', 71,
     'draws = {k: rng.normal(inputs[k].value, inputs[k].u, n) if inputs[k].u > 0 else np.full(n, inputs[k].value)'):
        'a normal draw with sd 0 is the value',
    ('analysis/uncertainty.py', 'NumberReplacer', 73,
     'draws = {k: rng.normal(inputs[k].value, inputs[k].u, n) if inputs[k].u > 0 else np.full(n, inputs[k].value)'):
        'u > -1: a normal draw with sd 0 is the value',
    ('analysis/uncertainty.py', 'NumberReplacer', 10,
     'keys = ys[0].keys()'):
        'ys[0].keys() -> ys[1]/ys[-1]: every draw has the same keys',
    ('analysis/uncertainty.py', 'NumberReplacer', 74,
     'return {k: float(a.mean()) for k, a in arr.items()}, {k: float(a.std(ddof=1)) for k, a in arr.items()}'):
        'std ddof 1 -> 0/2: 1/(2n) relative (2.5e-4 at the default 2000 draws), below any Monte Carlo check',
    ('daq/journal/scan.py', 'NumberReplacer', 14,
     '_SCAN_BYTES = 1 << 20'):
        'read size only: the scan handles any chunk size (test_resync_at_every_alignment_with_the_read_chunk runs it at 67 bytes)',
    ('daq/journal/scan.py', 'NumberReplacer', 19,
     '_SCAN_BYTES = 1 << 20'):
        'read size only: the scan handles any chunk size (test_resync_at_every_alignment_with_the_read_chunk runs it at 67 bytes)',
    ('daq/journal/scan.py', 'NumberReplacer', 21,
     'self.buf = bytearray(1 << 20)'):
        "initial read buffer size: read() grows it to any record's length",
    ('daq/journal/scan.py', 'NumberReplacer', 26,
     'self.buf = bytearray(1 << 20)'):
        "initial read buffer size: read() grows it to any record's length",
    ('daq/journal/scan.py', 'ReplaceComparisonOperator_Gt_GtE', 5,
     'if n > len(self.buf):'):
        'a buffer of exactly n bytes is replaced by another of n bytes',
    ('daq/journal/scan.py', 'ReplaceComparisonOperator_Lt_LtE', 16,
     'if len(payload) < _SEG.size:'):
        "a payload of exactly the prefix has empty JSON and rig text: refused either way (only the reason's wording differs)",
    ('daq/journal/scan.py', 'NumberReplacer', 13,
     'return None, 0, why'):
        'the end offset returned with no record is never read (callers test the entry)',
    ('daq/journal/scan.py', 'NumberReplacer', 13,
     'return None, 0, "CRC mismatch"'):
        'the end offset returned with no record is never read (callers test the entry)',
    ('daq/journal/scan.py', 'NumberReplacer', 13,
     'return None, 0, f"inconsistent record: {why}"'):
        'the end offset returned with no record is never read (callers test the entry)',
    ('daq/journal/scan.py', 'ReplaceBinaryOperator_Sub_Add', 20,
     'while pos <= r.size - HEADER_SIZE:'):
        'a search past size - 64 reads short chunks whose records fail their check: same result',
    ('daq/journal/scan.py', 'ReplaceBinaryOperator_Sub_Add', 47,
     'while pos <= r.size - HEADER_SIZE:\nchunk = os.pread(r.fd, min(_SCAN_BYTES, r.size - pos), pos)'):
        'pread of more than is left returns what is left',
    ('daq/journal/scan.py', 'ReplaceBinaryOperator_Sub_Add', 47,
     'while pos < r.size:\nchunk = os.pread(r.fd, min(_SCAN_BYTES, r.size - pos), pos)'):
        'pread of more than is left returns what is left',
    ('daq/journal/scan.py', 'ReplaceBreakWithContinue', 0,
     'if not chunk:\nbreak'):
        'unreachable: a chunk read inside the loop (pos <= size - 64) is never empty',
    ('daq/journal/scan.py', 'NumberReplacer', 33,
     'k = chunk.find(RECORD_MAGIC, k + 1)'):
        "find from k + 2: no magic can start at k + 1 ('F' is not 'H')",
    ('daq/journal/scan.py', 'NumberReplacer', 11,
     'pos += max(1, len(chunk) - len(RECORD_MAGIC) + 1)  # a magic across the boundary is found next round'):
        'max(1, n) -> max(0/2, n): n >= 61 (a chunk is at least 64 bytes inside the loop)',
    ('daq/journal/scan.py', 'ReplaceBinaryOperator_Add_Sub', 45,
     'pos += max(1, len(chunk) - len(RECORD_MAGIC) + 1)  # a magic across the boundary is found next round'):
        'the next chunk overlaps by 5 bytes instead of 3: a magic is tried twice, found once',
    ('daq/journal/scan.py', 'NumberReplacer', 47,
     'pos += max(1, len(chunk) - len(RECORD_MAGIC) + 1)  # a magic across the boundary is found next round'):
        '+ 1 -> + 0: the next chunk overlaps by 4 bytes: a magic is tried twice, found once (+ 2 is killed)',
    ('daq/journal/scan.py', 'ReplaceUnaryOperator_USub_UAdd', 7,
     'return -1, None, 0'):
        'the offset returned with no record is never read (callers test the entry)',
    ('daq/journal/scan.py', 'NumberReplacer', 8,
     'return -1, None, 0'):
        'the offset returned with no record is never read (callers test the entry)',
    ('daq/journal/scan.py', 'NumberReplacer', 17,
     'return -1, None, 0'):
        'the end offset returned with no record is never read (callers test the entry)',
    ('daq/journal/scan.py', 'NumberReplacer', 24,
     'seg = SegmentInfo(name, 0, r.size, offset, -1, -1)'):
        'SegmentInfo.number: read_journal sets it before the segment is kept',
    ('daq/journal/scan.py', 'NumberReplacer', 44,
     'seg = SegmentInfo(name, 0, r.size, offset, -1, -1)'):
        "first_seq -1 -> -2 (-0 is killed): any negative value means 'no record yet'",
    ('daq/journal/scan.py', 'NumberReplacer', 48,
     'seg = SegmentInfo(name, 0, r.size, offset, -1, -1)'):
        'last_seq -1 -> 0/-2: read only as max(last_seq, header seq >= 0), or the segment is dropped (no record)',
    ('daq/journal/scan.py', 'NumberReplacer', 10,
     'offset += 1'):
        'offset += 1 -> += 0 (+= 2 is killed): the search from the damaged offset fails there again first',
    ('daq/journal/scan.py', 'ReplaceComparisonOperator_Lt_LtE', 9,
     'if e.seq < next_seq:'):
        'inside e.seq != next_seq: never equal',
    ('daq/journal/scan.py', 'ReplaceComparisonOperator_Lt_LtE', 17,
     'if seg.first_seq < 0:'):
        'no entry has seq 0: seq 0 is the first SEGMENT record, which is never an entry',
    ('daq/journal/scan.py', 'NumberReplacer', 19,
     'if seg.first_seq < 0:'):
        '< 0 -> < 1 (< -1 is killed): no entry has seq 0',
    ('daq/journal/scan.py', 'NumberReplacer', 26,
     'f, why = _check_header(b, 0, r.size)'):
        'offset 0 -> -1 (1 is killed): the length check 1 byte looser; a header cut by a byte then fails its CRC',
    ('daq/journal/rows.py', 'ReplaceComparisonOperator_Lt_LtE', 14,
     'if f <= first < f + len(p):'):
        'the pieces are searched from the last: the one holding `first` comes before one that ends at `first`',
    ('daq/journal/rows.py', 'ReplaceComparisonOperator_Gt_GtE', 9,
     'if first > pos:'):
        'explain_missing(pos, pos) is empty',
    ('daq/journal/rows.py', 'ReplaceComparisonOperator_Gt_GtE', 8,
     'if tail > pos:  # declared gaps after the last row (e.g. an overrun at the end)'):
        'explain_missing(pos, pos) is empty',
    ('daq/journal/rows.py', 'NumberReplacer', 23,
     'key=lambda t: (t[0], t[1]))'):
        't[1] -> t[0] (t[2] is killed): records come in seq order and sorted() is stable',
    ('daq/journal/rows.py', 'NumberReplacer', 52,
     'tail = max((f + c for f, c, _ in declared), default=0)'):
        'default 0 -> -1 (1 is killed): never > pos >= 0',
    ('core/health.py', 'NumberReplacer', 41,
     'linear_adc = len(adc) == 2 and adc[1] != 0'):
        'adc[1] != 0 -> != 1/-1: an ADC of slope +-1 takes the polynomial path, which evaluates the same line',
    ('core/health.py', 'NumberReplacer', 42,
     'wmin, wmax, w = _window_extremes(raw, max(2, flat_len // 2))'):
        'max(2 -> 1/3, flat_len // 2): flat_len >= 50, so the max is flat_len // 2',
    ('core/health.py', 'ReplaceBinaryOperator_Sub_Add', 24,
     'need[j] = sig[0] < s_lo - m or sig[1] > s_hi + m'):
        'the screen only picks the columns for the full check: a wider band makes more suspects, same results',
    ('core/health.py', 'ReplaceUnaryOperator_USub_UAdd', 74,
     'lo, hi = (float(info.range[0]), float(info.range[1])) if info.range else (-np.inf, np.inf)'):
        'a channel without a range: span inf - inf = nan instead of inf, and the rail check is skipped either way (not finite)',
    ('core/health.py', 'ReplaceBinaryOperator_Add_Sub', 45,
     'need[j] = sig[0] < s_lo - m or sig[1] > s_hi + m'):
        'the screen only picks the columns for the full check: a wider band makes more suspects, same results',
    ('core/health.py', 'NumberReplacer', 52,
     'info = run.channel_info(name)\nadc = np.asarray(info.adc.get("coefficients", [0.0, 1.0]), dtype=float)'):
        'the default ADC is never used: the rig parser gives every channel its coefficients',
    ('core/health.py', 'NumberReplacer', 15,
     'if len(raw) == 0 or not suspects[j]:'):
        'len(raw) == 0 -> == 1/-1: an empty block has no suspects anyway, and one row cannot hold a failure (>= 3 samples)',
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
        f"timeout = {TIMEOUT}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(cmd)}\n"
        "[cosmic-ray.distributor]\nname = \"local\"\n"
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = {json.dumps(excluded)}\n")
    return cfg


def _sha(module: str) -> str:
    return hashlib.sha256((ROOT / module).read_bytes()).hexdigest()


def _session(module: str, fresh: bool = False) -> tuple[Path, Path]:
    """The module's kept session (its config and database), made anew if the module changed.

    The config (test subset, timeout) is written again each time, so ``--recheck`` runs the
    survivors against the current subset; the results already in the database stay.
    """
    work = STATE / module.replace("/", "__")
    cfg, db, stamp = work / "cosmic-ray.toml", work / "session.sqlite", work / "made-from"
    made_from = json.dumps({"sha256": _sha(module), "keep": sorted(KEEP)})
    if not fresh and db.exists() and stamp.exists() and stamp.read_text() == made_from:
        _config(module, MODULES[module], work)
        return cfg, db
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    _config(module, MODULES[module], work)
    subprocess.run([PY, "-m", "cosmic_ray.cli", "init", str(cfg), str(db)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([PY, "-m", "cosmic_ray.tools.filters.operators_filter", str(db), str(cfg)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([PY, "-m", "cosmic_ray.tools.filters.pragma_no_mutate", str(db)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    stamp.write_text(made_from)
    return cfg, db


def _results(db: Path) -> list[tuple[dict, dict | None]]:
    out = subprocess.run([PY, "-m", "cosmic_ray.cli", "dump", str(db)], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return [tuple(json.loads(ln)) for ln in out.stdout.splitlines()]


def site(lines: list[str], mutation: dict) -> tuple[str, int, str]:
    """(operator, column in the stripped line, stripped line) of a mutation: the key of ``EQUIVALENT``."""
    row, col = mutation["start_pos"]
    text = lines[row - 1]
    indent = len(text) - len(text.lstrip())
    return mutation["operator_name"].split("/", 1)[-1], col - indent, text.strip()


def _keys(module: str, lines: list[str], mutation: dict) -> list[tuple]:
    """The keys a mutation may have in ``EQUIVALENT``: its line alone, or (for a line whose text
    is not unique, e.g. ``break``) the line before it and its line, joined by a newline."""
    op, col, text = site(lines, mutation)
    row = mutation["start_pos"][0]
    prev = next((ln.strip() for ln in reversed(lines[:row - 1]) if ln.strip()), "")
    return [(module, op, col, text), (module, op, col, f"{prev}\n{text}")]


def score(module: str, rows, lines: list[str]) -> dict:
    """Killed, survived, equivalent, incompetent and not yet run mutants of one session, and the score."""
    killed = survived = equivalent = other = pending = 0
    survivors, matched = [], set()
    for item, result in rows:
        if result is not None and result.get("worker_outcome") == "skipped":  # filtered out
            continue
        keys = [k for m in item["mutations"] for k in _keys(module, lines, m)]
        eq = [k for k in keys if k in EQUIVALENT]
        matched.update(eq)
        outcome = None if result is None else result.get("test_outcome")
        if outcome == "killed":  # an entry covering a killed mutant (a number's other change) counts it killed
            killed += 1
        elif eq:
            equivalent += 1
        elif result is None:
            pending += 1
        elif outcome == "survived":
            survived += 1
            survivors.extend(item["mutations"])
        else:
            other += 1  # incompetent (the mutant does not even import)
    done = killed + survived
    stale = [k for k in EQUIVALENT if k[0] == module and k not in matched]
    return {"module": module, "mutants": killed + survived + equivalent + other + pending, "killed": killed,
            "survived": survived, "equivalent": equivalent, "incompetent": other, "pending": pending,
            "score": killed / done if done else float("nan"), "survivors": survivors, "stale": stale}


def _recheck(db: Path) -> int:
    """Forget the survivors' results, so that ``exec`` runs them again against the current tests;
    the mutants not run yet are held back (``_release`` after the run) so that only survivors run."""
    con = sqlite3.connect(db)
    with con:
        con.execute("INSERT INTO work_results (job_id, worker_outcome, output) SELECT job_id, 'SKIPPED', "
                    "'recheck-hold' FROM work_items WHERE job_id NOT IN (SELECT job_id FROM work_results)")
        n = con.execute("DELETE FROM work_results WHERE test_outcome IN ('survived', 'SURVIVED')").rowcount
    con.close()
    return n


def _release(db: Path) -> None:
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM work_results WHERE output = 'recheck-hold'")
    con.close()


def _commit() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %cd", "--date=format:%Y-%m-%d %H:%M"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "?"


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a.startswith("--")}
    mods = [a for a in argv if not a.startswith("--")] or list(MODULES)
    unknown = [m for m in mods if m not in MODULES]
    if unknown or flags - {"--list", "--score", "--recheck", "--fresh"}:
        print(f"mutation: no test subset for {', '.join(unknown)} (known: {', '.join(MODULES)})"
              if unknown else f"mutation: unknown option {' '.join(flags)}", file=sys.stderr)
        return 2
    try:
        os.nice(19)
    except OSError:
        pass
    table = []
    for module in mods:
        cfg, db = _session(module, fresh="--fresh" in flags)
        if "--list" in flags:
            print(f"{module}: {sum(1 for _, r in _results(db) if r is None or r.get('worker_outcome') != 'skipped')}"
                  " mutants")
            continue
        if "--score" not in flags:
            if "--recheck" in flags:
                print(f"== {module}: {_recheck(db)} survivors again", flush=True)
            print(f"== {module}: {' '.join(MODULES[module])}", flush=True)
            try:
                subprocess.run([PY, "-m", "cosmic_ray.cli", "exec", str(cfg), str(db)], cwd=ROOT, check=True,
                               env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
            finally:
                _release(db)
        lines = (ROOT / module).read_text().splitlines()
        s = score(module, _results(db), lines)
        table.append(s)
        for m in s["survivors"]:
            op, _, text = site(lines, m)
            print(f"   survived: {module}:{m['start_pos'][0]}:{m['start_pos'][1]} {op} "
                  f"(occurrence {m['occurrence']}): {text}")
        for k in s["stale"]:
            print(f"   stale equivalent (no such mutant now): {k[1]} at column {k[2]} of: {k[3]}")
        print(f"   {s['killed']} killed, {s['survived']} survived, {s['equivalent']} equivalent, "
              f"{s['incompetent']} incompetent, {s['pending']} not run: score {s['score']:.1%}", flush=True)
    if table:
        print(f"\nmeasured at {_commit()}\n\n| module | mutants | killed | survived | equivalent | score |\n"
              "|---|---|---|---|---|---|")
        for s in table:
            run = "" if not s["pending"] else f" ({s['pending']} not run)"
            print(f"| {s['module']} | {s['mutants']} | {s['killed']} | {s['survived']} | {s['equivalent']} | "
                  f"{s['score']:.1%}{run} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
