"""Plots of a comparison (matplotlib, PNG): one per role, overlaid and
normalised to each trace's steady level, and the key results per run."""
from __future__ import annotations

import io

import numpy as np

_PREFIX = ((1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"))
_ROLE_TITLE = {"thrust": "Thrust", "chamber_pressure": "Chamber pressure", "ox_mass_flow": "Oxidizer mass flow",
               "fuel_mass_flow": "Fuel mass flow"}


def _scale(unit: str, peak: float) -> tuple[float, str]:
    """A display scale with an SI prefix (kN, MPa) for values up to ``peak``."""
    if unit in ("N", "Pa") and np.isfinite(peak) and peak > 0:
        for f, p in _PREFIX:
            if peak >= f * 0.999:
                return f, p + unit
    return 1.0, unit


def colors_for(n):
    from matplotlib import colormaps

    cmap = colormaps["tab10"]  # strong colours; past ten, line styles tell runs apart
    return [cmap(i % 10) for i in range(n)]


_DASHES = ("-", "--", ":", "-.")


def _steady_level(v):
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan")
    hi = v.max()
    return float(np.median(v[v >= 0.5 * hi])) if hi > 0 else float("nan")


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def figures(cmp) -> dict[str, bytes]:
    """The report's plots as PNG bytes: one per role, and the key metrics."""
    from matplotlib.figure import Figure

    out = {}
    palette = colors_for(len(cmp.subjects))
    style = {}
    j = 0
    for i, s in enumerate(cmp.subjects):
        if i == cmp.reference:  # underneath, wide: the runs stay visible where they coincide with it
            style[i] = dict(color="black", lw=2.4, ls="--" if s.kind == "eng" else "-", zorder=2, alpha=0.85)
        else:
            style[i] = dict(color=palette[j], lw=1.1, ls=_DASHES[(j // 10) % 4], zorder=3)
            j += 1
    many = len(cmp.subjects) > 6
    xlabel = "time from T0 [s]" if cmp.align == "t0" else "time from ignition [s]"
    for role in cmp.roles:
        t, traces = cmp.overlay(role)
        if not traces:
            continue
        have = np.nonzero(np.any([np.isfinite(v) for v in traces.values()], axis=0))[0]
        if not len(have):
            continue
        # the common window, less what no run with this role covers (a thrust curve's long burn)
        keep = slice(max(0, have[0] - 1), have[-1] + 2)
        t, traces = t[keep], {k: v[keep] for k, v in traces.items()}
        unit = next(s.traces[role].unit for s in cmp.subjects if role in s.traces)
        peak = max((np.nanmax(np.abs(v)) for v in traces.values() if np.isfinite(v).any()), default=float("nan"))
        f, shown = _scale(unit, peak)
        fig = Figure(figsize=(10.5 if many else 9.5, 6.2), layout="constrained")
        ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        for i, s in enumerate(cmp.subjects):
            if s.label not in traces:
                continue
            v = traces[s.label]
            lab = f"{s.label}  ({s.rig})" if s.rig else s.label
            ax1.plot(t, v / f, label=lab + ("  [reference]" if i == cmp.reference else ""), **style[i])
            lvl = _steady_level(v)
            if np.isfinite(lvl) and lvl > 0:
                ax2.plot(t, v / lvl, **style[i])
        title = role_title(role)
        ax1.set_title(f"{title}, aligned at {'T0' if cmp.align == 't0' else 'ignition'}", loc="left")
        ax1.set_ylabel(f"{title.lower()} [{shown}]")
        ax2.set_ylabel("fraction of steady level")
        ax2.set_xlabel(xlabel)
        ax2.axhline(1.0, color="0.6", lw=0.6, zorder=1)
        for ax in (ax1, ax2):
            ax.grid(True, color="0.9")
            ax.axvline(0.0, color="0.5", lw=0.8, ls=":", zorder=1)
            ax.set_xlim(t[0], t[-1])
        if many:
            fig.legend(loc="outside right upper", fontsize=7, frameon=False)
        else:
            ax1.legend(loc="best", fontsize=8, framealpha=0.9)
        out[role] = _png(fig)
    keys = [k for k in ("c_star_efficiency", "isp_efficiency", "burn_time_s", "of") if
            any(r.key == k for r in cmp.rows)]
    if keys and any(s.kind == "run" for s in cmp.subjects):
        rows = {r.key: r for r in cmp.rows}
        fig = Figure(figsize=(9.5, 1.0 + 1.45 * len(keys)), layout="constrained")
        axes = fig.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0]
        x = np.arange(len(cmp.subjects))
        for ax, k in zip(axes, keys):
            r = rows[k]
            sc = r.metric.scale
            vals = [None if v is None else v * sc for v in r.values]
            for i, v in enumerate(vals):
                if v is None:
                    continue
                U = r.U[i]
                ax.errorbar(i, v, yerr=U * sc if U is not None else None, fmt="D" if i == cmp.reference
                            else "o", color=style[i]["color"], ms=6, capsize=3)
            if vals[cmp.reference] is not None:
                ax.axhline(vals[cmp.reference], color="black", lw=0.8, ls="--")
            ax.set_ylabel(r.label + (f" [{r.unit}]" if r.unit else ""), fontsize=8)
            ax.grid(True, axis="y", color="0.9")
            ax.ticklabel_format(axis="y", useOffset=False)
            shown = [v for v in vals if v is not None]
            lo, hi = min(shown), max(shown)
            pad = max(0.15 * (hi - lo), 0.005 * max(abs(lo), abs(hi)))  # 0.1 % apart must not look like 2x
            ax.set_ylim(lo - pad, hi + pad)
        axes[-1].set_xlim(-0.5, len(x) - 0.5)
        axes[-1].set_xticks(x, [s.label for s in cmp.subjects], rotation=30 if len(x) > 3 else 0,
                            ha="right" if len(x) > 3 else "center", fontsize=8)
        axes[0].set_title("Key results per run (dashed: reference; bars: ±U, k = 2)", loc="left")
        out["metrics"] = _png(fig)
    return out



def role_title(role: str) -> str:
    return _ROLE_TITLE.get(role, role.replace("_", " ").capitalize())


def swatches(cmp) -> list[str]:
    """Each subject's colour in the plots, as #rrggbb (the reference is black)."""
    from matplotlib.colors import to_hex

    palette = colors_for(len(cmp.subjects))
    out, j = [], 0
    for i in range(len(cmp.subjects)):
        if i == cmp.reference:
            out.append("#000000")
        else:
            out.append(to_hex(palette[j]))
            j += 1
    return out
