"""The results as a terminal table (``hotfire analyze``, ``hotfire demo``), rendered from
the metric registry (:mod:`hotfire.analysis.metrics`)."""
from __future__ import annotations

from hotfire.analysis import metrics as M

#: The main results of ``Performance`` and their key in the simulator's summary
#: truth (``run.truth``): (attribute, label, unit, format, truth key), from the
#: registry. Kept for scripts and tests that compare a run with its simulation.
ROWS = [(m.attr, m.short, m.display_unit, m.fmt, m.truth) for m in M.REGISTRY
        if m.truth and m.scope in ("burn", "steady")]


def rows(values, truth, ctx):
    """Table rows of ``values`` (:class:`~hotfire.analysis.metrics.Value`) that are shown:
    ``(label, value, ±U, unit, truth, error, flag, value object)``."""
    out = []
    for v in values:
        if not v.shown:
            continue
        m = v.metric
        t = truth.get(m.key) if truth else None
        err = ""
        if t is not None and v.value is not None and t:
            err = f"{(v.value - t) / abs(t) * 100:+.2f}%"
        out.append((m.title(ctx), v.text(), v.u_text(), m.display_unit, m.text(t) if t is not None else "",
                    err, v.flag(), v))
    return out


class Footnotes:
    """Reasons of degraded and n/a values, numbered as they are first shown; metrics that share a
    reason share its note (one failed load cell makes nine thrust metrics n/a for one reason)."""

    def __init__(self):
        self._notes: dict[str, list[str]] = {}  # reason text -> labels of the metrics it marks

    def mark(self, label: str, v) -> str:
        if v.state == M.OK:
            return ""
        text = v.state + (f", {v.reason}" if v.reason else "")
        prov = v.provenance.text()
        if prov:
            text += f" [from {prov}]"
        labels = self._notes.setdefault(text, [])
        labels.append(label)
        return f"{v.flag()} [{list(self._notes).index(text) + 1}]"

    @property
    def items(self) -> list[str]:
        """One line per reason: the metrics it marks, then the reason."""
        return [f"{', '.join(labels)}: {text}" for text, labels in self._notes.items()]


def _table(rows_, with_truth, notes: Footnotes):
    lines = []
    for label, v, u, unit, t, err, _flag, val in rows_:
        line = f"  {label:<40} {v:>12} {u:>10} {unit:<5}"
        if with_truth:
            line += f" {t:>14} {err:>8}"
        mark = notes.mark(label, val)
        if mark:
            line += f"  {mark}"
        lines.append(line.rstrip())
    return lines


def format_results(r, perf, truths=(None, None), stability=None, results=None) -> str:
    """The terminal table.

    Parameters
    ----------
    truths : (dict or None, list or None)
        The simulated truth (thrust metrics, per plateau), shown beside each result when given.
    """
    if perf is None:
        notes = results.notes if results else []
        return f"{r.test_id} on {r.rig_name}: no thrust results\n" + "\n".join(f"  note: {n}" for n in notes)
    tt, wt = truths if truths else (None, None)
    with_truth = tt is not None
    ctx = M.label_context(perf)
    foot = Footnotes()
    src = "simulated" if r.truth else ("imported from " + r.imported.get("format", "?") if r.imported else "")
    lines = [f"{r.test_id} on {r.rig_name}" + (f"  ({src})" if src else "")]
    if perf.burn_start_s is not None:
        lines.append(f"burn {perf.burn_start_s:+.3f} to {perf.burn_end_s:+.3f} s "
                     + ("from T0" if r.has_t0 else "(file time: the run has no T0)")
                     + (f", steady window {perf.steady_window_s[0]:+.3f} to {perf.steady_window_s[1]:+.3f} s"
                        if perf.steady_window_s else ""))
    lines.append(M.CONVENTION)
    lines.append("")
    hdr = f"  {'':<40} {'value':>12} {'±U (k=2)':>10} {'unit':<5}"
    if with_truth:
        hdr += f" {'simulated truth':>14} {'error':>8}"
    if perf.thrust is not None:
        lines.append("THRUST" + hdr[6:])
    else:
        lines += ["BURN  found on the chamber pressure: no usable thrust", hdr]
    lines += _table(rows(M.section("burn", perf), tt, ctx), with_truth, foot)
    for i, w in enumerate(perf.plateaus):
        lines.append("")
        tag = "STEADY WINDOW" if len(perf.plateaus) == 1 else f"STEADY WINDOW {i + 1} of {len(perf.plateaus)}"
        lines.append(f"{tag}  {w.start_s:+.3f} to {w.end_s:+.3f} s")
        lines += _table(rows(M.section("steady", w, perf), wt[i] if wt else None, ctx), with_truth, foot)
    st = stability
    if st is not None:
        lines.append("")
        lines.append(f"STABILITY  {st.channel} at {st.rate_hz:g} Hz, {st.interval_s[0]:+.2f} to {st.interval_s[1]:+.2f} s: "
                     f"{st.verdict.upper()} (per {st.settings['window_s']:g} s window)")
        if st.verdict == "rough":
            lines.append(f"  pressure leaves ±{st.bound_percent:g} % of its mean from {st.rough_from_s:+.3f} s")
        lines += _table(rows(M.section("stability", st), None, ctx), False, foot)
        tz = tt if with_truth else None
        for md in st.modes[:3]:
            s = f"  mode {md.frequency_hz:8.1f} Hz  {md.amplitude_percent:5.2f} % of Pc (0-pk)"
            if md.onset_s is not None:
                s += f"  from {md.onset_s:+.3f} s"
            if md.nearest_predicted:
                s += f"  nearest predicted {md.nearest_predicted} {md.predicted_hz:.0f} Hz"
            if tz and tz.get("instability_hz"):
                s += f"   [truth {tz['instability_hz']:g} Hz, {tz['instability_amplitude_percent']:g} %, from {tz['instability_onset_s']:+.3f} s]"
            lines.append(s)
        if not st.modes:
            lines.append("  no narrow-band oscillation stands out of the broadband noise")
        pm = st.predicted_modes
        if pm.get("1L") or pm.get("1T"):
            lines.append(f"  predicted acoustic modes (textbook, a = {pm['sound_speed_m_s']:.0f} m/s from CEA): "
                         + ", ".join(f"{k} {pm[k]:.0f} Hz" for k in ("1L", "1T") if k in pm))
    if foot.items:
        lines.append("")
        lines.append("DEGRADED OR NOT AVAILABLE")
        lines += [f"  [{i}] {n}" for i, n in enumerate(foot.items, 1)]
    bad = [h for h in perf.health.values() if h.status != "ok"]
    warn = [h for h in perf.health.values() if h.warnings and h.status == "ok"]
    lines.append("")
    lines.append("SENSORS  " + (f"{len(bad)} failed" if bad else "all healthy")
                 + (f", {len(warn)} with warnings" if warn else ""))
    for h in bad:
        lines.append(f"  FAILED  {h.name} ({h.role}): {'; '.join(h.problems)}; left out over {_spans(h)}")
    for h in warn:
        lines.append(f"  warning {h.name} ({h.role}): {'; '.join(h.warnings)}")
    notes = [n for n in perf.notes if not n.startswith("sensor ")]
    if results is not None:
        notes += results.notes
    if notes:
        lines.append("")
        lines.append("NOTES")
        lines += [f"  {n}" for n in dict.fromkeys(notes)]
    if perf.uncertainty:
        lines.append("")
        lines.append(f"{M.CONVENTION}, from the rig file's sensor uncertainties (GUM, first order)")
    return "\n".join(lines)


def _spans(h) -> str:
    """A failed channel's failed spans, "+1.120 to +1.420 s, ...": what the analyses leave out of it."""
    return ", ".join(f"{a:+.3f} to {b:+.3f} s" for a, b in h.failed_intervals)
