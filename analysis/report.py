"""A self-contained HTML report of a run: tables, plots (PNG, base64-embedded).

One file an engineer can forward: no external files, scripts or fonts.
Plots are drawn with matplotlib's Agg backend (no display needed).
"""
from __future__ import annotations

import base64
import html
import io

import numpy as np

from hotfire.core.version import __version__
from hotfire.analysis import metrics as M
from hotfire.analysis import reportparts as P
from hotfire.analysis.textreport import _spans, rows as _rows

C_BURN, C_STEADY, C_OX, C_FUEL, C_TOT = "#f4a259", "#8cb369", "#3c6e9f", "#bc4b51", "#333333"


def _mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.dpi": 110, "font.size": 9, "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
        "axes.spines.right": False, "legend.frameon": False, "legend.fontsize": 8,
    })
    return plt


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def envelope(t, v, n=3000):
    """Min/max envelope of a long signal in ``n`` bins: (t, lo, hi)."""
    if len(v) <= 2 * n:
        return t, v, v
    k = len(v) // n
    m = k * n
    lo = v[:m].reshape(n, k).min(axis=1)
    hi = v[:m].reshape(n, k).max(axis=1)
    return t[:m].reshape(n, k).mean(axis=1), lo, hi


def _marks(ax, perf, run):
    """The burn (found on thrust, or on Pc without thrust), the steady windows, T0 and cutoff."""
    ax.axvspan(perf.burn_start_s, perf.burn_end_s, color=C_BURN, alpha=0.12, lw=0)
    for w in perf.plateaus:
        ax.axvspan(w.start_s, w.end_s, color=C_STEADY, alpha=0.18, lw=0)
    if run.has_t0:
        ax.axvline(0, color="k", lw=0.8, ls=":")
    if run.cutoff is not None:
        ax.axvline(run.cutoff, color="k", lw=0.8, ls=":")


#: how each kind of sensor-health span is drawn (core.health: ChannelHealth.spans): color, hatch
HEALTH_STYLE = {"open circuit": ("#b00020", "//"), "dropout": ("#b00020", "xx"), "saturated": ("#7b1fa2", "//"),
                "rail": ("#e09f3e", ".."), "out of range": ("#7b1fa2", "\\\\"), "flatline": ("#555555", "--"),
                "nan": ("#9e9e9e", "||"), "zero shift": ("#5e35b1", "\\\\")}
C_SPIKE, C_SHIFT = "#d81b60", "#5e35b1"


def _health_marks(ax, perf, names) -> None:
    """The sensor-health spans of ``names`` (core.health): failures and NaN shaded and hatched, single-sample
    spikes as ticks along the top; one legend entry per kind and channel."""
    from matplotlib.transforms import blended_transform_factory

    top = blended_transform_factory(ax.transData, ax.transAxes)
    for n in names:
        h = perf.health.get(n)
        if h is None:
            continue
        spikes = [sp["start_s"] for sp in h.spans if sp["kind"] == "spike"]
        if spikes:
            ax.plot(spikes, [0.97] * len(spikes), ls="none", marker="|", ms=9, mew=1.2, color=C_SPIKE,
                    transform=top, label=f"{n}: {len(spikes)} single-sample spikes")
        seen = set()
        for sp in h.spans:
            if sp["kind"] not in HEALTH_STYLE:
                continue
            color, hatch = HEALTH_STYLE[sp["kind"]]
            a, b = sp["start_s"], max(sp["end_s"], sp["start_s"] + 1e-3)
            what = sp["detail"] if sp["kind"] == "zero shift" else sp["kind"]  # the shift's value is the point
            lab = None if sp["kind"] in seen else f"{n}: {what} ({a:+.2f} to {b:+.2f} s)"
            seen.add(sp["kind"])
            ax.axvspan(a, b, facecolor=color, alpha=0.18, edgecolor=color, hatch=hatch, lw=0.8, label=lab)


def _zero_shift_marks(ax, tr, sc) -> None:
    """The tare window and the post-fire span whose zero the thrust analysis compared with it. A corrected
    shift is a health span of its load cells (drawn by :func:`_health_marks`); here only its value."""
    if tr.zero_shift_N is None or not getattr(tr, "post_fire_span_s", None):
        return
    a, b = tr.post_fire_span_s
    if tr.zero_shift_corrected:
        ax.plot([], [], ls="none", label=f"total: post-fire zero {tr.zero_shift_N * sc:+,.1f} against the tare, "
                                         "corrected as a drift over the burn")
    else:
        ax.axvspan(a, b, facecolor="none", edgecolor=C_SHIFT, hatch="\\\\", lw=0.8,
                   label=f"post-fire zero {tr.zero_shift_N * sc:+,.1f} against the tare (within the noise: "
                         "not corrected)")
    t0, t1 = tr.thresholds["tare_window_s"]
    ax.axvspan(t0, t1, facecolor="none", edgecolor=C_SHIFT + "55", hatch="..", lw=0.8, label="tare window")


def _tlabel(run):
    return "time from T0 (s)" if run.has_t0 else "time (s, the file's; no T0 in the run)"


def _xlim(perf, tr=None):
    """The burn with margins (and the tare window and post-fire span of a zero shift, when given)."""
    span = perf.burn_end_s - perf.burn_start_s
    lo, hi = min(-0.1 * span, perf.burn_start_s - 0.1 * span), perf.burn_end_s + 0.12 * span
    if tr is not None and tr.zero_shift_N is not None and getattr(tr, "post_fire_span_s", None):
        lo, hi = min(lo, tr.thresholds["tare_window_s"][0] - 0.05), max(hi, tr.post_fire_span_s[1] + 0.05)
    return lo, hi


def plot_thrust(run, perf):
    from hotfire.analysis.thrust import ThrustSettings, total_thrust

    plt = _mpl()
    tr = perf.thrust
    t, F, *_ = total_thrust([run.view(n) for n in tr.channels],
                           ThrustSettings(tare_window_s=tuple(tr.thresholds["tare_window_s"])))
    F = F - 0  # tared already
    big = np.nanmax(np.abs(F)) > 2e4
    sc, unit = (1e-3, "kN") if big else (1.0, "N")
    fig, ax = plt.subplots(figsize=(9.5, 3.3))
    te, lo, hi = envelope(t, F * sc)
    ax.fill_between(te, lo, hi, color=C_TOT, lw=0.6, alpha=0.9, label=f"thrust ({', '.join(tr.channels)}{', tared' if tr.tared else ', not tared'})")
    _marks(ax, perf, run)
    lvl = tr.thresholds["burn_level_N"] * sc
    ax.axhline(lvl, color=C_BURN, lw=1, ls="--")
    ax.annotate(f"burn {tr.burn_time_s:.3f} s ({tr.thresholds['burn_fraction'] * 100:g} % of "
                f"{tr.thresholds['burn_reference']})", (tr.burn_start_s, lvl), xytext=(6, 5),
                textcoords="offset points", color="#b05a10", fontsize=8)
    ax.plot([tr.peak_time_s], [tr.peak_thrust_N * sc], "v", color=C_FUEL, ms=6,
            label=f"peak {tr.peak_thrust_N * sc:,.1f} {unit}")
    if run.has_t0:
        ax.annotate("T0", (0, 1), xycoords=("data", "axes fraction"), xytext=(2, -10), textcoords="offset points",
                    fontsize=8)
    if tr.cutoff_s is not None:
        ax.annotate("cutoff", (tr.cutoff_s, 1), xycoords=("data", "axes fraction"), xytext=(2, -10),
                    textcoords="offset points", fontsize=8)
    _health_marks(ax, perf, tr.channels)
    _zero_shift_marks(ax, tr, sc)
    # a single load cell's own limits are the total's; with several, only a calculated total's apply
    P.draw_limits(ax, P.limit_lines(run, P.total_thrust_channels(run) + (tr.channels if len(tr.channels) == 1 else [])),
                  sc, unit)
    ax.set_xlim(*_xlim(perf, tr))
    ax.set_xlabel(_tlabel(run))
    ax.set_ylabel(f"thrust ({unit})")
    ax.set_title(f"Thrust: total impulse {tr.total_impulse_Ns:,.0f} N s; shaded: burn (orange), steady windows (green)",
                 loc="left", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


def plot_pressure(run, perf):
    if not any(c.role in ("chamber_pressure", "chamber_pressure_dynamic") for c in run.channels):
        return None
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(9.5, 3.0))
    names = [c.name for c in run.channels if c.role == "chamber_pressure_dynamic"]
    a, b = _xlim(perf)
    for n in names[:1]:
        sig = run.channel(n, t=(a, b))
        te, lo, hi = envelope(sig.t, sig.si() / 1e5)
        ax.fill_between(te, lo, hi, color="#9aa9b8", lw=0, alpha=0.7, label=f"{n} (high-rate, min/max)")
    pcs = [c.name for c in run.channels if c.role == "chamber_pressure"]
    for n in pcs:
        h = perf.health.get(n)
        sig = run.channel(n, t=(a, b))
        te, lo, hi = envelope(sig.t, sig.si() / 1e5)
        lab = n + ("" if h is None or h.status == "ok" else " (FAILED)")
        ax.plot(te, 0.5 * (lo + hi), color=C_OX, lw=1.1, label=lab)
    _marks(ax, perf, run)
    _health_marks(ax, perf, pcs + names[:1])
    P.draw_limits(ax, P.limit_lines(run, pcs), 1e-5, "bar")
    for w in perf.plateaus:
        if w.pc_bar:
            ax.annotate(f"mean {w.pc_bar:.2f} bar", ((w.start_s + w.end_s) / 2, 0.04), xycoords=("data", "axes fraction"),
                        ha="center", fontsize=8, color="#3b5a1a")
    ax.set_xlim(a, b)
    ax.set_xlabel(_tlabel(run))
    ax.set_ylabel("chamber pressure (bar)")
    ax.set_title("Chamber pressure; hatched: sensor failures, ticks: single-sample spikes (sensor health)",
                 loc="left", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


def plot_flows(run, perf):
    s = perf.series
    if "mdot_kg_s" not in s:
        return None
    plt = _mpl()
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9.5, 4.4), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    t = s["t_s"]
    ax.plot(t, s["ox_mdot_kg_s"], color=C_OX, lw=1.2, label="oxidizer")
    ax.plot(t, s["fuel_mdot_kg_s"], color=C_FUEL, lw=1.2, label="fuel")
    ax.plot(t, s["mdot_kg_s"], color=C_TOT, lw=1.4, label="total")
    _marks(ax, perf, run)
    ax.set_ylabel("mass flow (kg/s)")
    ax.set_title(f"Mass flows ({perf.flow_source}, {1 / (t[1] - t[0]):g} Hz means) and mixture ratio",
                 loc="left", fontsize=9)
    ax.legend(loc="lower center", ncol=3)
    ax2.plot(t, s["of"], color="#6a4c93", lw=1.2)
    _marks(ax2, perf, run)
    ok = np.isfinite(s["of"])
    if ok.any():
        core = s["of"][ok & (t > perf.burn_start_s + 0.2) & (t < perf.burn_end_s - 0.05)]
        if len(core):
            m, d = float(np.median(core)), float(np.ptp(core))
            ax2.set_ylim(m - max(0.6 * d, 0.1 * m), m + max(0.6 * d, 0.1 * m))
    ax2.set_ylabel("O/F")
    ax2.set_xlabel(_tlabel(run))
    ax2.set_xlim(*_xlim(perf))
    fig.tight_layout()
    return _png(fig)


def plot_efficiency(run, perf):
    s = perf.series
    keys = [k for k in ("c_star_efficiency", "isp_efficiency") if k in s]
    if not keys:
        return None
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(9.5, 3.0))
    t = s["t_s"]
    cols = {"c_star_efficiency": C_OX, "isp_efficiency": C_FUEL}
    labels = {"c_star_efficiency": "c* efficiency", "isp_efficiency": "Isp efficiency"}
    vals = []
    # only where the chamber pressure is quasi-steady (changes by < 2 % in 10 ms): the
    # start and shutdown transients have no meaningful efficiency
    q = np.ones(len(t), bool)
    if "pc_bar" in s:
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.abs(np.gradient(s["pc_bar"], t)) / s["pc_bar"]
        q = rel * 0.01 < 0.02
    for k in keys:
        y = np.where(q, s[k] * 100, np.nan)
        ax.plot(t, y, color=cols[k], lw=1.2, label=labels[k])
        for w in perf.plateaus:
            v = getattr(w, k)
            if v is None:
                continue
            u = w.uncertainty.get(k)
            ax.hlines(v * 100, w.start_s, w.end_s, color=cols[k], lw=2.2, alpha=0.6)
            if u:
                ax.fill_between([w.start_s, w.end_s], [100 * (v - 2 * u)] * 2, [100 * (v + 2 * u)] * 2,
                                color=cols[k], alpha=0.15, lw=0)
            vals.append(v * 100)
    _marks(ax, perf, run)
    if vals:
        lo, hi = min(vals), max(vals)
        ax.set_ylim(lo - max(4, 0.5 * (hi - lo)), hi + max(4, 0.5 * (hi - lo)))
    ax.set_xlim(*_xlim(perf))
    ax.set_xlabel(_tlabel(run))
    ax.set_ylabel("efficiency (%)")
    ax.set_title("c* and Isp efficiency against CEA at the measured Pc and O/F, where Pc is quasi-steady "
                 "(band: steady-window mean ±U, k=2)", loc="left", fontsize=9)
    ax.legend(loc="lower center", ncol=2)
    return _png(fig)


def plot_stability(st, run):
    if st is None:
        return None
    plt = _mpl()
    fig = plt.figure(figsize=(9.5, 5.6))
    gs = fig.add_gridspec(2, 2, width_ratios=[3, 1.1], height_ratios=[3, 1.6], hspace=0.45, wspace=0.08)
    ax = fig.add_subplot(gs[0, 0])
    axp = fig.add_subplot(gs[0, 1], sharey=ax)
    axw = fig.add_subplot(gs[1, :])
    f, tt, S = st.spectrogram
    fmax = min(f[-1], 10000.0)
    pm = st.predicted_modes
    for k in ("1L", "1T"):
        if k in pm:
            fmax = min(f[-1], max(fmax, 1.25 * pm[k]))
    sel = f <= fmax
    db = 10 * np.log10(np.maximum(S[sel], 1e-30))
    vmax = float(np.percentile(db, 99.9))
    mesh = ax.pcolormesh(tt, f[sel], db, shading="auto", cmap="magma", vmin=vmax - 60, vmax=vmax, rasterized=True)
    ax.set_ylabel("frequency (Hz)")
    ax.set_xlabel(_tlabel(run))
    ax.grid(False)
    ax.set_title(f"Spectrogram of {st.channel} fluctuation (dB re 1 Pa²/Hz); dashed: predicted modes",
                 loc="left", fontsize=9)
    cb = fig.colorbar(mesh, ax=axp, pad=0.02, fraction=0.12)
    cb.set_label("dB")
    fp, P = st.psd
    ps = fp <= fmax
    axp.semilogx(np.maximum(P[ps], 1e-30), fp[ps], color=C_TOT, lw=0.8)
    axp.set_xlabel("PSD (Pa²/Hz)")
    axp.tick_params(labelleft=False)
    for k, c in (("1L", "#4cc9f0"), ("1T", "#80ed99")):
        if k in pm:
            for a_ in (ax, axp):
                a_.axhline(pm[k], color=c, ls="--", lw=1)
            ax.annotate(f"{k} {pm[k]:.0f} Hz", (tt[0], pm[k]), xytext=(3, 3), textcoords="offset points", color=c,
                        fontsize=8)
    for md in st.modes[:3]:
        axp.annotate(f"{md.frequency_hz:.0f} Hz\n{md.amplitude_percent:.1f} %", (P[ps].max(), md.frequency_hz),
                     xytext=(-4, 0), textcoords="offset points", ha="right", va="center", fontsize=8, color=C_FUEL)
    ws = st.windows
    x = [0.5 * (w.start_s + w.end_s) for w in ws]
    y = [w.max_excursion_percent for w in ws]
    colors = [C_STEADY if w.smooth else C_FUEL for w in ws]
    width = (ws[0].end_s - ws[0].start_s) * 0.9 if ws else 0.1
    axw.bar(x, y, width=width, color=colors)
    axw.axhline(st.bound_percent, color="k", ls="--", lw=1)
    axw.annotate(f"±{st.bound_percent:g} % smooth bound", (x[0] if x else 0, st.bound_percent), xytext=(0, 3),
                 textcoords="offset points", fontsize=8)
    axw.set_xlim(ax.get_xlim())
    axw.set_ylabel("max |p'| (% of Pc)")
    axw.set_xlabel(_tlabel(run))
    axw.set_title(f"Largest excursion from the mean per {st.settings['window_s']:g} s window: "
                  f"{st.verdict.upper()} (red: beyond the bound)", loc="left", fontsize=9)
    return _png(fig)


CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1060px;color:#222;
     line-height:1.35}
h1{font-size:21px;margin:0 0 4px} h2{font-size:16px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
.sub{color:#666;font-size:13px}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:14px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}
.card .k{font-size:11px;color:#666;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:19px;font-weight:600} .card .u{font-size:12px;color:#555}
.bad{color:#b00020} .ok{color:#2e7d32}
table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
td:first-child,th:first-child{text-align:left} th{background:#f6f6f6;font-weight:600}
td.err{color:#666} table.left td,table.left th{text-align:left} img{max-width:100%;display:block;margin:6px 0 14px}
.note{font-size:13px;color:#444}
td.src,th.src{text-align:left;white-space:normal;font-size:11px;color:#666;max-width:330px}
tr.degraded td{background:#fff4e0} tr.degraded td.src b{color:#a35200} tr.na td{color:#888} details{font-size:12px;color:#444;margin-top:8px}
code{font-size:12px} td.rig{color:#555} td.wrap{white-space:normal;text-align:left}
table.events td:last-child{white-space:normal;text-align:left} table.signoff td{padding:10px 14px}
"""


def _tbl(rows, with_truth, run=None):
    """A results table; degraded and n/a rows are marked, with their reason and provenance; a column
    in the rig's own units where its channels are not metric (psi, lbf)."""
    alt = [P.in_rig_units(run, r[-1]) if run is not None else "" for r in rows]
    h = [f"<table><tr><th>quantity</th><th>value</th><th>±U (k=2)</th><th>unit</th>"]
    if any(alt):
        h.append("<th>in the rig's units, ±U (k=2)</th>")
    if with_truth:
        h.append("<th>simulated truth</th><th>error</th>")
    h.append("<th class='src'>from</th></tr>")
    for (label, v, u, unit, t, err, flag, val), a in zip(rows, alt):
        cls = {M.DEGRADED: " class='degraded'", M.NA: " class='na'"}.get(val.state, "")
        h.append(f"<tr{cls}><td>{html.escape(label)}</td><td>{html.escape(v)}</td><td>{html.escape(u)}</td>"
                 f"<td>{html.escape(unit)}</td>")
        if any(alt):
            h.append(f"<td class='rig'>{html.escape(a)}</td>")
        if with_truth:
            h.append(f"<td>{html.escape(t)}</td><td class='err'>{err}</td>")
        why = f"<b>{flag}</b>: {html.escape(val.reason)}<br>" if flag else ""
        h.append(f"<td class='src'>{why}{html.escape(val.provenance.text())}</td></tr>")
    h.append("</table>")
    return "".join(h)


def _card(k, v, u="", cls=""):
    return (f"<div class='card'><div class='k'>{html.escape(k)}</div><div class='v {cls}'>{v}</div>"
            f"<div class='u'>{u}</div></div>")


def _img(alt: str, png: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{png}'>"


def _head(run) -> list[str]:
    """Title and the line naming rig, article, date and source."""
    a, m = run.article, run.metadata
    src = "simulated" if run.truth else ("imported (" + run.imported.get("format", "?") + ")" if run.imported
                                          else str(m.get("source", "")))
    return ["<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>{html.escape(run.test_id)}: hotfire report</title><style>{CSS}</style></head><body>",
            f"<h1>Test {html.escape(run.test_id)}</h1>",
            f"<div class='sub'>rig <b>{html.escape(run.rig_name)}</b> &middot; article {html.escape(str(a.serial))}"
            + (f" ({html.escape(str(a.oxidizer))} / {html.escape(str(a.fuel))})" if a.fuel else "")
            + f" &middot; {html.escape(str(m.get('start_time_utc', ''))[:19].replace('T', ' '))} UTC"
            f" &middot; {html.escape(src)} &middot; {html.escape(M.CONVENTION)}</div>"]


def _cards(perf, st, run=None) -> list[str]:
    """The registry's headline metrics, the stability verdict and the sensors, as cards."""
    cards = []
    for v in M.collect(perf, st).values():
        if v.metric.headline and v.shown:
            mt = v.metric
            sub = f"{v.u_text()} {mt.display_unit} (k=2)" if v.U else ""
            if v.state != M.OK:  # the reason is in the list under the cards
                sub = (sub + " · " if sub else "") + f"{v.state.upper()} (below)"
            shown = f"{v.text()} {mt.display_unit}".strip() if v.value is not None else "n/a"
            if run is not None and P.in_rig_units(run, v):
                sub = (sub + " · " if sub else "") + P.in_rig_units(run, v)
            cards.append(_card(mt.short, shown, html.escape(sub),
                               "" if v.state == M.OK else "bad"))
    if st is not None:
        cards.append(_card("Stability", st.verdict.upper(), f"max excursion {st.max_excursion_percent:.1f} % of Pc",
                           "bad" if st.verdict == "rough" else "ok"))
    bad = [h for h in perf.health.values() if h.status != "ok"]
    cards.append(_card("Sensors", f"{len(bad)} failed" if bad else "all healthy",
                       ", ".join(h.name for h in bad), "bad" if bad else "ok"))
    return ["<div class='cards'>" + "".join(cards) + "</div>"]


def _flagged(res) -> list[str]:
    """Every degraded or n/a metric with its reason, in one list (the tables mark them too)."""
    m = res.metrics()
    scopes = [("", m["burn"])] + [(f"window {i + 1}: " if len(m["steady_windows"]) > 1 else "", w)
                                  for i, w in enumerate(m["steady_windows"])] + [("", m["stability"])]
    items = [f"<li><b>{html.escape(pre + v.metric.short)}</b> {html.escape(v.state)}: {html.escape(v.reason)}</li>"
             for pre, vals in scopes for v in vals.values() if v.state != M.OK and v.reason]
    return ["<h2>Degraded or not available</h2><ul class='note'>" + "".join(items) + "</ul>"] if items else []


def _burn(run, perf, tt, ctx, with_truth) -> list[str]:
    """The thrust plot and the burn's metrics."""
    out = ["<h2>Thrust</h2>" if perf.thrust is not None else "<h2>Burn</h2>"]
    if perf.thrust is not None:
        out.append(_img("thrust", plot_thrust(run, perf)))
    out.append(_tbl(_rows(M.section("burn", perf), tt, ctx), with_truth, run))
    return out


def _steady(run, perf, wt, ctx, with_truth) -> list[str]:
    """The chamber-pressure plot and each steady window's metrics, then the time-resolved plots."""
    out = []
    if perf.plateaus:
        out.append("<h2>Steady state</h2>")
        png = plot_pressure(run, perf)
        if png:
            out.append(_img("chamber pressure", png))
        if len(perf.plateaus) > 1:
            out.append(f"<p class='note'>{len(perf.plateaus)} steady plateaus (a throttled run): each is reported.</p>")
        for i, w in enumerate(perf.plateaus):
            tag = "Steady window" if len(perf.plateaus) == 1 else f"Plateau {i + 1}"
            out.append(f"<h3 style='font-size:14px;margin:12px 0 2px'>{tag}: {w.start_s:+.3f} to {w.end_s:+.3f} s</h3>")
            out.append(_tbl(_rows(M.section("steady", w, perf), wt[i] if wt else None, ctx), with_truth, run))
    for fn, title in ((plot_flows, "Mass flows and O/F"), (plot_efficiency, "Efficiencies over time")):
        png = fn(run, perf)
        if png:
            out.append(f"<h2>{title}</h2>" + _img(title, png))
    return out


def _stability(run, st, tt) -> list[str]:
    """The verdict, the stability metrics, the modes and the spectrogram."""
    out = ["<h2>Combustion stability</h2>"]
    if st is None:
        return out + ["<p class='note'>No usable high-rate chamber pressure channel: not analysed.</p>"]
    verdict = (f"<b class='bad'>ROUGH</b>: the pressure leaves ±{st.bound_percent:g} % of its mean from "
               f"{st.rough_from_s:+.3f} s" if st.verdict == "rough" else
               f"<b class='ok'>SMOOTH</b>: the pressure stays within ±{st.bound_percent:g} % of its mean")
    out.append(f"<p class='note'>{html.escape(st.channel)} at {st.rate_hz:g} Hz, {st.interval_s[0]:+.2f} to "
               f"{st.interval_s[1]:+.2f} s, per {st.settings['window_s']:g} s window. {verdict}.</p>")
    out.append(_tbl(_rows(M.section("stability", st), None, {}), False))
    if st.modes:
        rows = ["<table><tr><th>mode</th><th>frequency (Hz)</th><th>amplitude, 0-pk (% Pc)</th><th>from (s)</th>"
                "<th>nearest predicted</th>" + ("<th>simulated truth</th>" if tt is not None else "") + "</tr>"]
        for i, md in enumerate(st.modes[:5]):
            truth_cell = ""
            if tt is not None:
                truth_cell = (f"<td>{tt['instability_hz']:g} Hz, {tt['instability_amplitude_percent']:g} %, "
                              f"from {tt['instability_onset_s']:+.3f} s</td>" if tt.get("instability_hz") and i == 0
                              else "<td></td>")
            rows.append(f"<tr><td>{i + 1}</td><td>{md.frequency_hz:.1f}</td><td>{md.amplitude_percent:.2f}</td>"
                        f"<td>{'' if md.onset_s is None else f'{md.onset_s:+.3f}'}</td>"
                        f"<td>{md.nearest_predicted} {'' if md.predicted_hz is None else f'{md.predicted_hz:.0f} Hz'}"
                        f"</td>{truth_cell}</tr>")
        out.append("".join(rows) + "</table>")
    else:
        out.append("<p class='note'>No narrow-band oscillation stands out of the broadband noise.</p>")
    pm = st.predicted_modes
    if "1L" in pm or "1T" in pm:
        out.append(f"<p class='note'>Predicted acoustic modes (textbook estimates for a closed cylinder, sound "
                   f"speed {pm['sound_speed_m_s']:.0f} m/s from CEA at {pm['pc_bar']:.1f} bar, O/F {pm['of']:.2f}): "
                   + ", ".join(f"{k} {pm[k]:.0f} Hz" for k in ("1L", "1T") if k in pm)
                   + ". Real chambers shift these by 10-20 %.</p>")
    out.append(_img("spectrogram", plot_stability(st, run)))
    return out


def _sensors(perf) -> list[str]:
    """Failed sensors and those with warnings; the count of the healthy others."""
    rows = ["<h2>Sensors</h2><table class='left'><tr><th>channel</th><th>role</th><th>status</th><th>details</th></tr>"]
    for h in perf.health.values():
        if h.status == "ok" and not h.warnings:
            continue
        cls = "bad" if h.status != "ok" else ""
        rows.append(f"<tr><td>{html.escape(h.name)}</td><td>{html.escape(h.role)}</td>"
                    f"<td class='{cls}'>{h.status.upper() if h.status != 'ok' else 'warning'}</td>"
                    f"<td style='text-align:left;white-space:normal'>{html.escape('; '.join(h.problems + h.warnings))}"
                    f"{' (left out over %s)' % _spans(h) if h.failed_intervals else ''}</td></tr>")
    n_ok = sum(1 for h in perf.health.values() if h.status == "ok" and not h.warnings)
    rows.append(f"<tr><td colspan='4' style='text-align:left'>{n_ok} other channels healthy</td></tr></table>")
    return ["".join(rows)]


def _table(headers, rows, cls="left") -> str:
    """A plain table of text cells."""
    e = html.escape
    return (f"<table class='{cls}'><tr>" + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>")


def _events(run) -> list[str]:
    """Every event of the run (T0, cutoff, limit crossings, notes, errors), times from T0."""
    rows = P.event_rows(run)
    body = _table(P.EVENT_HEADERS, rows, "left events") if rows else "<p class='note'>The run has no events.</p>"
    return [f"<h2>Events</h2>{body}"]


def _instruments(run) -> list[str]:
    """The instrument list from the run's channel table."""
    rows = P.instrument_rows(run)
    out = _table(P.INSTRUMENT_HEADERS, rows, "left instruments")
    out = out.replace("<td>", "<td class='wrap'>")
    return [f"<h2>Instruments</h2>{out}"]


def _signoff(conductor=None, reviewer=None) -> list[str]:
    """Blank lines to sign; names filled in when given."""
    return ["<h2>Sign-off</h2>" + _table(("", "name", "signature", "date"), P.signoff_rows(conductor, reviewer),
                                         "left signoff")]


def _notes(perf, res) -> list[str]:
    notes = [n for n in perf.notes if not n.startswith("sensor ")] + res.notes
    if not notes:
        return []
    return ["<h2>Notes</h2><ul class='note'>" + "".join(f"<li>{html.escape(n)}</li>" for n in dict.fromkeys(notes))
            + "</ul>"]


def _conventions(run, perf, ctx) -> list[str]:
    """How the numbers were made (folded), and where they came from."""
    tr = perf.thrust
    th = tr.thresholds if tr is not None else {"tare_window_s": perf.settings.get("tare_window_s", (-1.5, -0.1))}
    impulse = ctx.get("impulse") or "1 % of steady thrust"
    burn = ctx.get("burn", "on the chamber pressure (no usable thrust)")
    return ["<details><summary>Conventions and settings</summary><ul>"
            "<li>Times are seconds from T0 (main valves commanded open).</li>"
            f"<li>Burn: {html.escape(burn)}; action time: NFPA 1125, 5 % of peak; total impulse integrates the "
            f"tared thrust between the crossings of {html.escape(impulse)}.</li>"
            f"<li>Tare window {th['tare_window_s'][0]:+g} to {th['tare_window_s'][1]:+g} s.</li>"
            f"<li>{html.escape(M.CONVENTION)}, from the rig file's sensor uncertainties, taken as standard "
            "uncertainties, propagated to first order (GUM); the throat area and CEA are taken as exact.</li>"
            "<li>Theory: NASA CEA, equilibrium, infinite-area combustor, at each window's measured Pc and O/F.</li>"
            f"<li>Settings: <code>{html.escape(str(perf.settings))}</code></li></ul></details>",
            f"<p class='sub' style='margin-top:18px'>hotfire {__version__} &middot; {html.escape(run.path)} &middot; "
            f"rig sha256 {html.escape(str(run.metadata.get('rig_sha256', ''))[:16])}</p>"]


def render_html(run, res, truths=None, conductor=None, reviewer=None) -> str:
    """The report as one HTML string: a section per part (head, cards, degraded metrics, burn, steady
    state, stability, sensors, events, instruments, notes, conventions, sign-off); the metric tables
    come from the registry."""
    perf, st = res.performance, res.stability
    out = _head(run)
    if perf is None:
        out.append("<h2>No thrust results</h2>")
        out += [f"<p class='note'>{html.escape(n)}</p>" for n in res.notes]
        out += _events(run) + _instruments(run) + _signoff(conductor, reviewer)
        return "".join(out + ["</body></html>"])
    tt, wt = truths if (truths and run.truth) else (None, None)
    ctx = M.label_context(perf)
    out += _cards(perf, st, run) + _flagged(res)
    out += _burn(run, perf, tt, ctx, tt is not None) + _steady(run, perf, wt, ctx, tt is not None)
    out += _stability(run, st, tt if tt is not None else None) + _sensors(perf) + _events(run) + _instruments(run)
    out += _notes(perf, res) + _signoff(conductor, reviewer) + _conventions(run, perf, ctx)
    return "".join(out + ["</body></html>"])


def write_html(run, res, path, truths=None, conductor=None, reviewer=None) -> None:
    """Write the report of ``res`` (from :func:`hotfire.analysis.results.analyze_run`) to ``path``;
    ``conductor`` and ``reviewer`` fill the sign-off block's names (blank lines otherwise)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_html(run, res, truths, conductor, reviewer))
