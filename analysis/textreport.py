"""The results as a terminal table (``hotfire analyze``, ``hotfire demo``)."""
from __future__ import annotations

import math

#: The main results of ``Performance`` and their key in the simulator's summary
#: truth (``run.truth``): (attribute, label, unit, format, truth key). Kept for
#: scripts and tests that compare a run with its simulation.
ROWS = [
    ("burn_time_s", "Burn time (10% of steady thrust)", "s", "{:.3f}", "burn_time_s"),
    ("total_impulse_Ns", "Total impulse", "N s", "{:,.0f}", "total_impulse_Ns"),
    ("average_thrust_N", "Average thrust over the burn", "N", "{:,.1f}", None),
    ("peak_thrust_N", "Peak thrust", "N", "{:,.1f}", None),
    ("thrust_N", "Steady thrust", "N", "{:,.1f}", "thrust_N"),
    ("pc_bar", "Steady chamber pressure", "bar", "{:.3f}", "pc_bar"),
    ("mdot_kg_s", "Mass flow", "kg/s", "{:.4f}", "mdot_kg_s"),
    ("of", "O/F", "", "{:.4f}", "of"),
    ("isp_s", "Isp", "s", "{:.2f}", "isp"),
    ("c_star_m_s", "c*", "m/s", "{:.1f}", "c_star"),
    ("cf", "CF", "", "{:.4f}", "cf"),
    ("c_star_theory_m_s", "c* theoretical (CEA)", "m/s", "{:.1f}", "c_star_theory"),
    ("c_star_efficiency", "c* efficiency", "", "{:.4f}", "c_star_efficiency"),
    ("isp_theory_s", "Isp theoretical (CEA, ambient)", "s", "{:.2f}", "isp_theory"),
]

# The tables: (attribute, label, unit, format, SI->unit scale)
THRUST_ROWS = [
    ("burn_time_s", "Burn time ({burn})", "s", "{:.3f}", 1),
    ("action_time_s", "Action time (NFPA 1125, 5 % of peak)", "s", "{:.3f}", 1),
    ("total_impulse_Ns", "Total impulse", "N s", "{:,.0f}", 1),
    ("average_thrust_N", "Average thrust over the burn", "N", "{:,.1f}", 1),
    ("peak_thrust_N", "Peak thrust", "N", "{:,.1f}", 1),
    ("ignition_delay_s", "Ignition delay (T0 to {basis} rise)", "ms", "{:.1f}", 1e3),
    ("thrust_rise_time_s", "Thrust rise time 10-90 %", "ms", "{:.1f}", 1e3),
    ("pc_rise_time_s", "Pc rise time 10-90 %", "ms", "{:.1f}", 1e3),
    ("peak_pc_ratio", "Start overpressure, peak / steady Pc", "", "{:.3f}", 1),
    ("shutdown_impulse_Ns", "Shutdown impulse (after cutoff)", "N s", "{:,.1f}", 1),
    ("propellant_mass_kg", "Propellant consumed", "kg", "{:.3f}", 1),
    ("isp_from_mass_s", "Isp from impulse / propellant mass", "s", "{:.2f}", 1),
]
STEADY_ROWS = [
    ("thrust_N", "Thrust", "N", "{:,.1f}", 1),
    ("pc_bar", "Chamber pressure", "bar", "{:.3f}", 1),
    ("ox_mdot_kg_s", "Oxidizer mass flow", "kg/s", "{:.4f}", 1),
    ("fuel_mdot_kg_s", "Fuel mass flow", "kg/s", "{:.4f}", 1),
    ("mdot_kg_s", "Total mass flow", "kg/s", "{:.4f}", 1),
    ("of", "O/F", "", "{:.4f}", 1),
    ("isp_s", "Isp (sea level, from flow)", "s", "{:.2f}", 1),
    ("c_star_m_s", "c*", "m/s", "{:.1f}", 1),
    ("cf", "CF", "", "{:.4f}", 1),
    ("c_star_theory_m_s", "c* theoretical (CEA)", "m/s", "{:.1f}", 1),
    ("isp_theory_s", "Isp theoretical (CEA, ambient)", "s", "{:.2f}", 1),
    ("c_star_efficiency", "c* efficiency", "%", "{:.2f}", 100),
    ("isp_efficiency", "Isp efficiency", "%", "{:.2f}", 100),
    ("cf_efficiency", "CF efficiency", "%", "{:.2f}", 100),
    ("ox_injector_dp_bar", "Ox injector pressure drop", "bar", "{:.3f}", 1),
    ("fuel_injector_dp_bar", "Fuel injector pressure drop", "bar", "{:.3f}", 1),
]


def _fmt(fmt, v, scale=1):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return fmt.format(v * scale)


def _u_fmt(fmt, u, scale):
    if not u:
        return ""
    return "±" + fmt.format(2 * u * scale).lstrip()


def _rows(obj, rows, unc, truth, labels):
    out = []
    for attr, label, unit, fmt, scale in rows:
        v = getattr(obj, attr, None)
        if v is None:
            continue
        t = truth.get(attr) if truth else None
        err = ""
        if t is not None and v is not None and t:
            err = f"{(v - t) / abs(t) * 100:+.2f}%"
        out.append((label.format(**labels), _fmt(fmt, v, scale), _u_fmt(fmt, unc.get(attr), scale), unit,
                    _fmt(fmt, t, scale) if t is not None else "", err))
    return out


def _table(rows, with_truth):
    lines = []
    for label, v, u, unit, t, err in rows:
        line = f"  {label:<40} {v:>12} {u:>10} {unit:<5}"
        if with_truth:
            line += f" {t:>14} {err:>8}"
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
    tr = perf.thrust
    th = tr.thresholds
    burn = (f"{th['burn_fraction'] * 100:g} % of steady thrust" if th["method"] == "steady"
            else f"NFPA 1125, {th['burn_fraction'] * 100:g} % of peak")
    src = "simulated" if r.truth else ("imported from " + r.imported.get("format", "?") if r.imported else "")
    lines = [f"{r.test_id} on {r.rig_name}" + (f"  ({src})" if src else ""),
             f"burn {perf.burn_start_s:+.3f} to {perf.burn_end_s:+.3f} s "
             + ("from T0" if r.has_t0 else "(file time: the run has no T0)")
             + (f", steady window {perf.steady_window_s[0]:+.3f} to {perf.steady_window_s[1]:+.3f} s"
                if perf.steady_window_s else ""), ""]
    hdr = f"  {'':<40} {'value':>12} {'±U (k=2)':>10} {'unit':<5}"
    if with_truth:
        hdr += f" {'simulated truth':>14} {'error':>8}"
    lines.append("THRUST" + hdr[6:])
    merged = dict(vars(tr))
    merged.update(propellant_mass_kg=perf.propellant_mass_kg, isp_from_mass_s=perf.isp_from_mass_s)

    class _O:
        pass
    o = _O()
    o.__dict__.update(merged)
    lines += _table(_rows(o, THRUST_ROWS, perf.uncertainty, tt, {"burn": burn, "basis": "Pc" if tr.ignition_basis == "chamber pressure" else "thrust"}),
                    with_truth)
    for i, w in enumerate(perf.plateaus):
        lines.append("")
        tag = "STEADY WINDOW" if len(perf.plateaus) == 1 else f"STEADY WINDOW {i + 1} of {len(perf.plateaus)}"
        lines.append(f"{tag}  {w.start_s:+.3f} to {w.end_s:+.3f} s")
        lines += _table(_rows(w, STEADY_ROWS, w.uncertainty, wt[i] if wt else None, {}), with_truth)
    st = stability
    if st is not None:
        lines.append("")
        lines.append(f"STABILITY  {st.channel} at {st.rate_hz:g} Hz, {st.interval_s[0]:+.2f} to {st.interval_s[1]:+.2f} s: "
                     f"{st.verdict.upper()}")
        if st.verdict == "rough":
            lines.append(f"  pressure leaves ±{st.bound_percent:g} % of its mean from {st.rough_from_s:+.3f} s")
        lines.append(f"  largest excursion {st.max_excursion_percent:.1f} % of mean Pc, peak-to-peak "
                     f"{st.max_pk_pk_percent:.1f} %, RMS {st.max_rms_percent:.2f} % (per {st.settings['window_s']:g} s window)")
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
    bad = [h for h in perf.health.values() if h.status != "ok"]
    warn = [h for h in perf.health.values() if h.warnings and h.status == "ok"]
    lines.append("")
    lines.append("SENSORS  " + (f"{len(bad)} failed" if bad else "all healthy")
                 + (f", {len(warn)} with warnings" if warn else ""))
    for h in bad:
        lines.append(f"  FAILED  {h.name} ({h.role}): {'; '.join(h.problems)}; not used from {h.failed_from_s:+.3f} s")
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
        lines.append("±U: expanded uncertainty (k = 2, ~95 %) from the rig file's sensor uncertainties (GUM, first order)")
    return "\n".join(lines)
