"""RASP .eng thrust curves (the implicit (0, 0) point added; propellant mass kept for Isp)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hotfire.analysis.importers.base import ChannelSpec, ImportFailed, Mapping
from hotfire.analysis.importers.frame import Frame, resolve


def parse_eng(text: str, where: str = "<eng>"):
    """A RASP .eng motor file: (header dict, t, thrust) with the implicit (0, 0) point added."""
    return _parse(text, where)[:3]


def _parse(text: str, where: str):
    lines = [(i, ln.strip()) for i, ln in enumerate(text.splitlines(), 1)]
    lines = [(i, ln) for i, ln in lines if ln and not ln.startswith(";")]
    if not lines:
        raise ImportFailed(f"{where}: empty .eng file")
    hl, h = lines[0]
    head = h.split()
    if len(head) < 7:
        raise ImportFailed(f"{where}:{hl}: header line needs 7 fields (name diameter length delays propellant_kg "
                           f"total_kg manufacturer), got {h!r}")
    try:
        hdr = {"name": head[0], "diameter_mm": float(head[1]), "length_mm": float(head[2]), "delays": head[3],
               "propellant_kg": float(head[4]), "total_kg": float(head[5]), "manufacturer": " ".join(head[6:])}
    except ValueError:
        raise ImportFailed(f"{where}:{hl}: bad header line {h!r}") from None
    pts, rows = [], []
    for i, ln in lines[1:]:
        parts = ln.split()
        if len(parts) < 2:
            raise ImportFailed(f"{where}:{i}: expected 'time thrust', got {ln!r}")
        try:
            pts.append((float(parts[0]), float(parts[1])))
        except ValueError:
            bad = 1 if _num(parts[0]) else 0
            raise ImportFailed(f"{where}:{i}: column {bad + 1} ({('time', 'thrust')[bad]}): expected a number, "
                               f"got {parts[bad]!r}") from None
        rows.append(i)
    if len(pts) < 2:
        raise ImportFailed(f"{where}: fewer than two data points")
    t = np.array([p[0] for p in pts])
    f = np.array([p[1] for p in pts])
    if not (np.isfinite(t).all() and np.isfinite(f).all()):
        k = int(np.flatnonzero(~(np.isfinite(t) & np.isfinite(f)))[0])
        raise ImportFailed(f"{where}:{rows[k]}: not a finite number")
    if t[0] > 0:
        t, f, rows = np.concatenate(([0.0], t)), np.concatenate(([0.0], f)), [hl] + rows
    return hdr, t, f, rows


def _num(x):
    try:
        float(x)
        return True
    except ValueError:
        return False


def read_eng_frame(path, m: Mapping) -> Frame:
    p = Path(path)
    try:
        text = p.read_text(errors="replace")
    except OSError as exc:
        raise ImportFailed(f"{p}: {exc.strerror}") from None
    hdr, t, f, rows = _parse(text, str(p))
    spec = m.channels.get("thrust") or ChannelSpec("thrust", "THRUST", "thrust", "N")
    spec.units = spec.units or "N"
    spec.role = spec.role or "thrust"
    m.channels.setdefault("thrust", spec)
    fr = Frame(p, "eng", ["thrust"], f[:, None], lambda i, j: f"{p}:{rows[i]}", rows, units=["N"], t=t,
               time_name="the curve's points (RASP: from an implicit (0, 0))", curve=True,
               layout=f"RASP motor {hdr['name']} ({hdr['manufacturer']}), {len(t)} points")
    fr.info.update({"motor": hdr, "points": int(len(t)),
                    "note": "RASP curves start implicitly at (0, 0); that point was added" if t[0] == 0 else ""})
    m.article.setdefault("serial", hdr["name"])
    if hdr["propellant_kg"] > 0:
        m.metadata.setdefault("propellant_mass_kg", hdr["propellant_kg"])
    m.rate_hz = m.rate_hz or 1000.0
    fr.info["time_column"] = "(points)"  # so that rate_hz is the resampling rate
    resolve(fr, m)
    return fr
