"""Rig descriptions: a TOML file per test stand, parsed into a validated model.

Unknown keys are errors (a typo must not be silently ignored) and every
error names the file, the line and the key, e.g.::

    rigs/lox-ethanol-5kN.toml:41: channels.PC-CH.range: expected [low, high] with low < high, got [10.0, 0.0]
"""
from __future__ import annotations

import difflib

import hashlib
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hotfire.core import tomlpos
from hotfire.core.calculated import CALC_KINDS, CalcChannel, calc_time_base
from hotfire.core.channel import KINDS, Channel, Limits, rig_fields  # noqa: F401 (re-exported)
from hotfire.core.rigchannel import DTYPES, ROLES, TC_TYPES, TERMINALS, _channel, _check_limit_order, _limits  # noqa: F401 (re-exported)
from hotfire.core.rigtable import RigError, _Loader, _Table  # noqa: F401 (re-exported)
from hotfire.core.scaling import Calibration
from hotfire.core.units import from_si, si_unit, to_si

#: Sample rates (Hz) a stream's device can run at, by the device name's prefix (NI's
#: naming); the first match wins, "" is any other device (and the simulator).
#: C Series in a cDAQ chassis: up to 1 MS/s (NI 9223); PXI(e) and USB/PCIe
#: multifunction boards: up to 10 MS/s class; imported files: whatever they held.
DEVICE_RATES = (
    ("import", 1e-6, 1e9),
    ("cdaq", 1.0, 1e6),
    ("pxi", 1.0, 10e6),
    ("", 1.0, 10e6),
)
#: Plausible bounds of a firing's sequence, seconds (a rig file asking for more is a typo).
SEQUENCE_MAX_S = {"pretrigger_s": 600.0, "burn_s": 3600.0, "posttrigger_s": 3600.0}
#: The simulator computes a firing in memory (~100 kHz internal steps): at most this long, seconds.
SIMULATOR_MAX_S = 300.0


#: grain types of ``[article.grain]``: required keys, optional keys (lengths mm, density kg/m^3)
GRAIN_KEYS = {
    # a solid motor's BATES segments: cylinders burning in their core and (unless inhibited) at their ends
    "bates": ({"outer_diameter_mm", "core_diameter_mm", "length_mm", "density_kg_m3"},
              {"segments", "inhibited_ends"}),
    # a hybrid's fuel grain with one circular port; the firing's fuel mass burnt or final port diameter
    # (measured after it) may be given here or in the run's metadata (same keys)
    "port": ({"outer_diameter_mm", "port_diameter_mm", "length_mm", "density_kg_m3"},
             {"final_port_diameter_mm", "fuel_mass_burnt_kg"}),
}


@dataclass(frozen=True)
class Grain:
    """A solid propellant grain (``type = "bates"``) or a hybrid's fuel grain (``type = "port"``).

    Lengths in mm, density in kg/m^3 (``[article.grain]`` of the rig file).
    """

    type: str
    outer_diameter_mm: float
    length_mm: float
    density_kg_m3: float
    core_diameter_mm: float | None = None  # bates
    segments: int = 1
    inhibited_ends: int = 0  # per segment: 0 (both ends burn), 1 or 2
    port_diameter_mm: float | None = None  # port: before the firing
    final_port_diameter_mm: float | None = None
    fuel_mass_burnt_kg: float | None = None

    @property
    def motor(self) -> str:
        """"solid" or "hybrid"."""
        return "solid" if self.type == "bates" else "hybrid"


@dataclass(frozen=True)
class Article:
    """The test article. Only ``serial`` is required: a run imported from a
    foreign recording (a solid motor's thrust curve) may know nothing else,
    and analyses say what they cannot compute without a field."""

    serial: str
    fuel: str | None = None
    oxidizer: str | None = None
    fuel_temperature_K: float | None = None
    oxidizer_temperature_K: float | None = None
    throat_diameter_mm: float | None = None
    expansion_ratio: float | None = None
    nominal_pc_bar: float | None = None
    nominal_of: float | None = None
    ambient_pressure_bar: float = 1.01325
    chamber_diameter_mm: float | None = None
    chamber_length_mm: float | None = None
    grain: Grain | None = None

    @property
    def throat_area_m2(self) -> float | None:
        if self.throat_diameter_mm is None:
            return None
        return math.pi / 4 * (self.throat_diameter_mm * 1e-3) ** 2

    def missing(self, *fields: str) -> list[str]:
        """Those of ``fields`` the rig does not give."""
        return [f for f in fields if getattr(self, f) is None]


@dataclass(frozen=True)
class Sequence:
    """Default firing sequence (seconds)."""

    pretrigger_s: float = 2.0
    burn_s: float = 4.0
    posttrigger_s: float = 2.0


@dataclass(frozen=True)
class Stream:
    name: str
    rate_hz: float
    dtype: str
    device: str
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rig:
    name: str
    description: str
    path: str
    text: str
    article: Article
    sequence: Sequence
    streams: dict[str, Stream]
    channels: tuple[Channel, ...]
    calculated: tuple[CalcChannel, ...] = ()  # [calculated.NAME]: evaluated live and afterwards
    stability_alarm_percent: float = 5.0  # [rig]: live Pc excursion alarm, % of mean (the +-5 % smooth bound)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def channel(self, name: str) -> Channel:
        for ch in self.channels:
            if ch.name == name:
                return ch
        raise KeyError(f"rig {self.name!r} has no channel {name!r}")

    def by_role(self, role: str) -> list[Channel]:
        return [ch for ch in self.channels if ch.role == role]

    def stream_channels(self, stream: str) -> list[Channel]:
        return [ch for ch in self.channels if ch.stream == stream]

    def error(self, keypath: tuple[str, ...], message: str) -> RigError:
        """A :class:`RigError` at ``keypath`` of this rig's file (its line found in :attr:`text`)."""
        line = tomlpos.line_of(tomlpos.key_lines(self.text), keypath) or 1
        return RigError(self.path, line, ".".join(keypath), message)


def check_simulatable(rig: Rig, pretrigger_s=None, burn_s=None, posttrigger_s=None) -> None:
    """Refuse a firing longer than the simulator can compute (:data:`SIMULATOR_MAX_S`).

    Arguments override the rig's sequence (a scenario's values).

    Raises
    ------
    RigError
        Naming the rig file, the line and the key of the longest phase.
    """
    seq = rig.sequence
    phases = {"pretrigger_s": seq.pretrigger_s if pretrigger_s is None else pretrigger_s,
              "burn_s": seq.burn_s if burn_s is None else burn_s,
              "posttrigger_s": seq.posttrigger_s if posttrigger_s is None else posttrigger_s}
    total = sum(phases.values())
    if not math.isfinite(total) or total > SIMULATOR_MAX_S:
        key = max(phases, key=lambda k: phases[k])
        raise rig.error(("sequence", key), f"the simulator computes firings of at most {SIMULATOR_MAX_S:g} s; "
                                           f"this one lasts {total:g} s ({key} = {phases[key]:g})")


# --------------------------------------------------------------------------
# Validation


def load_rig(path) -> Rig:
    """Load and validate a rig file.

    Parameters
    ----------
    path : str or Path
        A rig TOML file, or the name of a bundled rig (``lox-ethanol-5kN``).

    Returns
    -------
    Rig

    Raises
    ------
    RigError
        With file, line and key, for any invalid or unknown entry.
    """
    path = resolve_rig_path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise RigError(path, None, None, f"cannot read rig file: {exc.strerror}") from None
    return parse_rig(text, path)


def bundled_rigs_dir() -> Path:
    """Where the bundled rigs live (the repository's rigs/ folder)."""
    return Path(__file__).resolve().parent.parent / "rigs"


def resolve_rig_path(name) -> Path:
    p = Path(name)
    if p.exists() or p.suffix == ".toml" or "/" in str(name):
        return p
    candidate = bundled_rigs_dir() / f"{name}.toml"
    if candidate.exists():
        return candidate
    stems = sorted(q.stem for q in bundled_rigs_dir().glob("*.toml"))
    lower = {k.lower(): k for k in stems}
    close = difflib.get_close_matches(str(name).lower(), list(lower), 1, 0.6)
    hint = f"did you mean {lower[close[0]]}? " if close else ""
    raise RigError(name, None, None, f"no such rig file, and no bundled rig of that name ({hint}bundled: "
                                     f"{', '.join(stems)})")


def parse_rig(text: str, path="<rig>") -> Rig:
    """Validate rig TOML text; ``path`` is used in error messages."""
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        msg = str(exc)
        if line is None and "(at line " in msg:
            line = int(msg.rsplit("(at line ", 1)[1].split(",")[0])
        if line is None:  # "(at end of document)": the last line
            line = max(1, len(text.splitlines()))
        raise RigError(path, line, None, f"not valid TOML: {msg}") from None
    ld = _Loader(path, text)
    if not data:
        raise RigError(path, 1, "rig", "the file is empty (or only comments): a rig needs the tables "
                                       "[rig], [article], [streams] and [channels]")
    root = _Table(ld, data, ())

    rig_t = root.table("rig")
    name = rig_t.str("name")
    description = rig_t.str("description", required=False)
    stab = rig_t.num("stability_alarm_percent", required=False, default=5.0, positive=True)
    if stab > 50:
        rig_t.fail("stability_alarm_percent", f"expected at most 50 (% of mean Pc), got {stab:g}")
    rig_t.check_unknown()

    a = root.table("article")
    # Only the serial is required: the rest may be unknown (an imported
    # thrust curve); analyses name the field they miss.
    article = Article(
        serial=a.str("serial"),
        fuel=a.str("fuel") if "fuel" in a.data else None,
        oxidizer=a.str("oxidizer") if "oxidizer" in a.data else None,
        fuel_temperature_K=a.num("fuel_temperature_K", required=False, positive=True),
        oxidizer_temperature_K=a.num("oxidizer_temperature_K", required=False, positive=True),
        throat_diameter_mm=a.num("throat_diameter_mm", required=False, positive=True),
        expansion_ratio=a.num("expansion_ratio", required=False, minimum=1.0),
        nominal_pc_bar=a.num("nominal_pc_bar", required=False, positive=True),
        nominal_of=a.num("nominal_of", required=False, positive=True),
        ambient_pressure_bar=a.num("ambient_pressure_bar", required=False, default=1.01325, minimum=0.0),
        chamber_diameter_mm=a.num("chamber_diameter_mm", required=False, positive=True),
        chamber_length_mm=a.num("chamber_length_mm", required=False, positive=True),
        grain=_grain(a.table("grain", required=False)),
    )
    a.check_unknown()

    s = root.table("sequence", required=False)
    if s is None:
        sequence = Sequence()
    else:
        sequence = Sequence(
            pretrigger_s=s.num("pretrigger_s", required=False, default=2.0, minimum=0.0),
            burn_s=s.num("burn_s", required=False, default=4.0, positive=True),
            posttrigger_s=s.num("posttrigger_s", required=False, default=2.0, minimum=0.0),
        )
        for key, most in SEQUENCE_MAX_S.items():
            if getattr(sequence, key) > most:
                s.fail(key, f"expected at most {most:g} s, got {getattr(sequence, key):g}")
        s.check_unknown()

    streams_t = root.table("streams")
    if not streams_t.data:
        streams_t.fail(None, "a rig needs at least one stream")
    streams: dict[str, Stream] = {}
    for sname in streams_t.data:
        st = streams_t.table(sname)
        streams[sname] = Stream(
            name=sname,
            rate_hz=st.num("rate_hz", positive=True),
            dtype=st.str("dtype", required=False, default="float64", choices=DTYPES),
            device=st.str("device", required=False, default=""),
        )
        _check_rate(st, streams[sname])
        st.check_unknown()

    chans_t = root.table("channels")
    if not chans_t.data:
        chans_t.fail(None, "a rig needs at least one channel")
    channels: list[Channel] = []
    columns = {s: 0 for s in streams}
    physicals: dict[str, str] = {}
    folded: dict[str, str] = {}
    for cname in chans_t.data:
        if cname.casefold() in folded:
            # names are looked up by people and by case-insensitive file systems and tools
            chans_t.fail(cname, f"channel name differs only in case from {folded[cname.casefold()]!r}")
        folded[cname.casefold()] = cname
        c = chans_t.table(cname)
        channels.append(_channel(c, cname, streams, columns, physicals))
        c.check_unknown()
    calculated = _calculated(root.table("calculated", required=False), channels, streams, folded)
    root.check_unknown(("rig", "article", "sequence", "streams", "channels", "calculated"))

    for sname, st in streams.items():
        names = tuple(ch.name for ch in channels if ch.stream == sname)
        if not names:
            ld.fail(("streams", sname), "stream has no channels")
        streams[sname] = Stream(st.name, st.rate_hz, st.dtype, st.device, names)
    return Rig(name, description, str(path), text, article, sequence, streams, tuple(channels), calculated, stab)


def _calculated(t: "_Table | None", channels, streams, folded) -> tuple[CalcChannel, ...]:
    """The ``[calculated.NAME]`` tables (:class:`hotfire.core.calculated.CalcChannel`)."""
    if t is None:
        return ()
    by_name = {ch.name: ch for ch in channels}
    out = []
    for cname in t.data:
        if cname.casefold() in folded:
            t.fail(cname, f"name already used by channel {folded[cname.casefold()]!r}")
        folded[cname.casefold()] = cname
        c = t.table(cname)
        kind = c.str("kind", choices=tuple(CALC_KINDS))
        given = c.raw("inputs")
        if given is None and kind == "total_thrust":
            given = [ch.name for ch in channels if ch.role == "thrust"]
        if not isinstance(given, list) or not all(isinstance(x, str) for x in given):
            c.fail("inputs", f"expected a list of channel names ({kind}: {CALC_KINDS[kind][1]}), got {given!r}")
        need = {"injector_dp": 2, "mixture_ratio": 2}.get(kind)
        if (need and len(given) != need) or not given:
            c.fail("inputs", f"{kind} takes {CALC_KINDS[kind][1]}, got {given!r}")
        for n in given:
            if n not in by_name:
                c.fail("inputs", f"no channel {n!r} in [channels]")
        units = c.str("units", required=False, default="" if kind == "mixture_ratio" else by_name[given[0]].units)
        for n in given:
            u = by_name[n].units
            if kind != "mixture_ratio" and units != u and si_unit(u) != si_unit(units):
                c.fail("units", f"{n} is in {u!r}, which does not convert to {units!r}")
        rng = c.raw("range")
        if rng is None:
            rng = _calc_range(kind, [by_name[n] for n in given], units)
        elif not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, (int, float)) for x in rng)
                  and all(math.isfinite(x) for x in rng) and rng[0] < rng[1]):
            c.fail("range", f"expected [low, high] in {units or 'its units'} with low < high, got {rng!r}")
        redline, warning = _limits(c, "redline"), _limits(c, "warning")
        _check_limit_order(c, redline, warning)
        tare_s = c.num("tare_s", required=False, default=0.5 if kind == "total_thrust" else 0.0, minimum=0.0)
        if kind != "total_thrust" and "tare_s" in c.data:
            c.fail("tare_s", "only a total_thrust is tared")
        gate = c.table("check_while", required=False)
        check_while = None
        if gate is not None:
            gch = gate.str("channel")
            if gch not in given:
                gate.fail("channel", f"expected one of its inputs ({', '.join(given)}), got {gch!r}")
            check_while = (gch, gate.num("above"))
            gate.check_unknown(("channel", "above"))
        c.check_unknown(("kind", "inputs", "units", "range", "redline", "warning", "tare_s", "check_while"))
        base = calc_time_base([(n, by_name[n].stream) for n in given], {s: st.rate_hz for s, st in streams.items()})
        out.append(CalcChannel(cname, kind, tuple(given), units, base, (float(rng[0]), float(rng[1])),
                               redline, warning, tare_s, check_while,
                               _input_full_scale(kind, [by_name[n] for n in given], units)))
    return tuple(out)


def _input_full_scale(kind, inputs, units) -> tuple[float, ...]:
    """Each input's full scale in ``units`` (SI for an O/F): a load cell's capacity, else the largest
    magnitude its range reaches in engineering units; () for kinds that do not use it."""
    if kind not in ("total_thrust", "mixture_ratio"):
        return ()
    out = []
    for ch in inputs:
        cap = ch.calibration.get("capacity") if ch.calibration.get("type") == "bridge" else None
        fs = float(cap) if cap is not None else \
            float(np.max(np.abs(Calibration(ch.calibration).to_eu(np.array(ch.range, dtype=float)))))
        to = units or si_unit(ch.units)
        out.append(fs if ch.units == to else float(abs(from_si(to_si(np.array(fs), ch.units), to))))
    return tuple(out)


def _calc_range(kind, inputs, units) -> tuple[float, float]:
    """A calculated channel's full scale from its inputs' (in ``units``)."""
    def eu(ch):
        lo, hi = sorted(float(x) for x in Calibration(ch.calibration).to_eu(np.array(ch.range, dtype=float)))
        return tuple(float(x) for x in from_si(to_si(np.array([lo, hi]), ch.units), units)) if ch.units != units else (lo, hi)
    if kind == "total_thrust":
        r = [eu(ch) for ch in inputs]
        return sum(a for a, _ in r), sum(b for _, b in r)
    if kind == "injector_dp":
        (f0, f1), (c0, c1) = eu(inputs[0]), eu(inputs[1])
        return f0 - c1, f1 - c0
    return 0.0, 10.0  # O/F


def _grain(g: _Table | None) -> Grain | None:
    """``[article.grain]``, validated (keys per :data:`GRAIN_KEYS`)."""
    if g is None:
        return None
    kind = g.str("type", choices=tuple(GRAIN_KEYS))
    required, optional = GRAIN_KEYS[kind]
    v = {k: g.num(k, positive=True) for k in sorted(required)}
    for k in optional:
        if k in ("segments", "inhibited_ends"):
            x = g.num(k, required=False, default=1 if k == "segments" else 0, minimum=0 if k != "segments" else 1)
            if x != int(x) or (k == "inhibited_ends" and x > 2):
                g.fail(k, f"expected {'a whole number of segments' if k == 'segments' else '0, 1 or 2'}, got {x:g}")
            v[k] = int(x)
        else:
            x = g.num(k, required=False, positive=True)
            if x is not None:
                v[k] = x
    g.check_unknown(required | optional | {"type"})
    inner = v.get("core_diameter_mm", v.get("port_diameter_mm"))
    if inner >= v["outer_diameter_mm"]:
        g.fail("core_diameter_mm" if kind == "bates" else "port_diameter_mm",
               f"expected less than outer_diameter_mm ({v['outer_diameter_mm']:g}), got {inner:g}")
    final = v.get("final_port_diameter_mm")
    if final is not None and not inner < final <= v["outer_diameter_mm"]:
        g.fail("final_port_diameter_mm", f"expected between port_diameter_mm ({inner:g}) and "
                                         f"outer_diameter_mm ({v['outer_diameter_mm']:g}), got {final:g}")
    return Grain(type=kind, **v)


def _check_rate(t: _Table, st: Stream) -> None:
    dev = st.device.casefold()
    prefix, lo, hi = next(r for r in DEVICE_RATES if dev.startswith(r[0]))
    if not lo <= st.rate_hz <= hi:
        what = f"a {prefix} device" if prefix else "this device" if dev else "a stream"
        t.fail("rate_hz", f"{st.rate_hz:g} Hz is outside what {what} samples at ({lo:g} Hz .. {hi:g} Hz)")


