"""A counter-pattern source, for tests and benchmarks of the recording path.

Row ``i``, column ``c`` of every stream holds a value computed from ``(i, c)``
and the stream's name alone (:func:`pattern`), exact in the stream's dtype.
A test can therefore check any stored row against the truth, and tell a
fabricated or misplaced row from a real one, without keeping a copy::

    k = i * (2 c + 1) + 1009 c + salt(stream)         (64-bit integer)
    int8/16/32/64, uint*:  k modulo 2**bits (two's complement wrap)
    float64:               (k mod 2**48) + 0.25       exact in a double
    float32:               (k mod 2**20) + 0.25       exact in a single

``salt`` is ``crc32(stream name) mod 4096``, so the streams differ. The
source paces blocks by the wall clock (``realtime``) like hardware, or
produces them as fast as it can (benchmarks). Blocks are made by adding a
per-block offset to a precomputed template, so generation costs one pass
over the data.
"""
from __future__ import annotations

import zlib

import numpy as np

from hotfire.core.events import Event
from hotfire.daq.sources.base import ClockedSource

__all__ = ["PatternSource", "pattern", "check_pattern", "synthetic_rig_text"]

_F64_MOD = 1 << 48
_F32_MOD = 1 << 20


def _salt(stream: str) -> int:
    return zlib.crc32(stream.encode("utf-8")) % 4096


def _keys(stream: str, n_channels: int, first: int, n: int) -> np.ndarray:
    i = np.arange(first, first + n, dtype=np.int64)[:, None]
    c = np.arange(n_channels, dtype=np.int64)[None, :]
    return i * (2 * c + 1) + 1009 * c + _salt(stream)


def pattern(stream: str, dtype, n_channels: int, first: int, n: int) -> np.ndarray:
    """Rows ``[first, first + n)`` of ``stream``'s counter pattern, shape ``(n, n_channels)``.

    Parameters
    ----------
    stream : str
        Stream name (salts the values).
    dtype : numpy dtype
        Any integer dtype, float32 or float64.
    n_channels, first, n : int

    Returns
    -------
    numpy.ndarray
    """
    dt = np.dtype(dtype)
    k = _keys(stream, n_channels, first, n)
    if dt.kind in "iu":
        return k.astype(dt)  # wraps modulo 2**bits
    if dt == np.float64:
        return (k % _F64_MOD).astype(np.float64) + 0.25
    if dt == np.float32:
        return ((k % _F32_MOD).astype(np.float64) + 0.25).astype(np.float32)
    raise ValueError(f"pattern: unsupported dtype {dt}")


def check_pattern(stream: str, rows: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Return a boolean per row: True where ``rows[k]`` is exactly sample ``index[k]`` of the pattern.

    Compares bit patterns, so a NaN or a -0.0 never passes for a value.
    """
    rows = np.asarray(rows)
    index = np.asarray(index, dtype=np.int64)
    out = np.empty(len(index), bool)
    if len(index) == 0:
        return out
    w = rows.dtype.itemsize
    # runs of consecutive indices, checked in pieces to keep memory small
    breaks = np.flatnonzero(np.diff(index) != 1) + 1
    step = max(1, (1 << 22) // max(1, rows.shape[1]))
    for a0, b0 in zip(np.r_[0, breaks], np.r_[breaks, len(index)]):
        for a in range(int(a0), int(b0), step):
            b = min(int(b0), a + step)
            want = pattern(stream, rows.dtype, rows.shape[1], int(index[a]), b - a)
            out[a:b] = np.all(rows[a:b].view(f"u{w}") == want.view(f"u{w}"), axis=1)
    return out


class PatternSource(ClockedSource):
    """Every stream of ``rig`` filled with the counter pattern.

    Parameters
    ----------
    rig : Rig
    realtime : bool
        Pace blocks by the wall clock at each stream's rate, as hardware would;
        else produce them as fast as possible.
    duration_s : float, optional
        Seconds of data per stream (default: the rig's sequence). ``inf``
        runs until :meth:`stop`.
    block_s : float
        Seconds per block (a DAQ is read about 10 times a second).
    events : bool
        Post ``T0`` and ``cutoff`` at the rig sequence's times, as the simulator does.
    scenario : ignored
        Accepted so that :func:`open_source` can pass it to every source.

    Notes
    -----
    A block's array is reused by the next ``read`` of its stream (the
    acquisition copies it into the ring at once); copy it to keep it.
    """

    kind = "pattern"

    def __init__(self, rig, realtime: bool = False, duration_s: float | None = None, block_s: float = 0.1,
                 events: bool = True, scenario=None):
        seq = rig.sequence
        dur = seq.pretrigger_s + seq.burn_s + seq.posttrigger_s if duration_s is None else duration_s
        ref = max(rig.streams.values(), key=lambda st: st.rate_hz)
        marks = []
        if events:
            marks = [Event("T0", ref.name, int(round(seq.pretrigger_s * ref.rate_hz)), "T0 (pattern source)"),
                     Event("cutoff", ref.name, int(round((seq.pretrigger_s + seq.burn_s) * ref.rate_hz)),
                           "cutoff (pattern source)")]
        super().__init__(rig, dur, block_s, realtime, ref.name, marks)
        self._template, self._step, self._buf = {}, {}, {}
        for s, st in self.streams.items():
            n, nch = self._block[s], st.n_channels
            if st.dtype.kind in "iu" or st.dtype == np.float64:
                # block(first) = template + first * (2c + 1), wrapped like the pattern
                self._template[s] = pattern(s, st.dtype, nch, 0, n)
                self._step[s] = np.arange(nch, dtype=np.int64) * 2 + 1
            self._buf[s] = np.empty((n, nch), st.dtype)

    def _make(self, stream: str, first: int, n: int) -> np.ndarray:
        st = self.streams[stream]
        tmpl = self._template.get(stream)
        if tmpl is None or (st.dtype == np.float64 and (first + n) * (2 * st.n_channels + 1) + 1009 * st.n_channels
                            + 4096 >= _F64_MOD):
            return pattern(stream, st.dtype, st.n_channels, first, n)
        out = self._buf[stream][:n]
        if st.dtype.kind in "iu":
            off = (first * self._step[stream]).astype(st.dtype)  # wraps
            with np.errstate(over="ignore"):
                np.add(tmpl[:n], off, out=out)
        else:
            np.add(tmpl[:n], (first * self._step[stream]).astype(np.float64), out=out)
        return out

    def metadata(self) -> dict:
        return {"pattern": {"version": 1, "formula": "k = i*(2c+1) + 1009c + crc32(stream) % 4096; "
                            "ints: k wrapped; float64: k mod 2**48 + 0.25; float32: k mod 2**20 + 0.25"}}


def synthetic_rig_text(streams: dict, name: str = "synthetic", sequence=(0.5, 1.0, 0.5)) -> str:
    """TOML text of a rig with the given streams of plain voltage channels (tests, benchmarks).

    Parameters
    ----------
    streams : dict
        name -> ``(rate_hz, n_channels, dtype)``.
    name : str
        Rig name.
    sequence : (float, float, float)
        pretrigger, burn and posttrigger seconds.

    Examples
    --------
    >>> from hotfire.core.rig import parse_rig
    >>> rig = parse_rig(synthetic_rig_text({"fast": (102400, 256, "int16"), "slow": (250, 512, "int16")}))
    """
    pre, burn, post = sequence
    out = [f'[rig]\nname = "{name}"\ndescription = "synthetic rig for tests and benchmarks"\n',
           '[article]\nserial = "SYN-001"\nfuel = "RP-1"\noxidizer = "O2(L)"\nfuel_temperature_K = 298.15\n'
           'oxidizer_temperature_K = 90.17\nthroat_diameter_mm = 50.0\nexpansion_ratio = 4.0\n'
           'nominal_pc_bar = 20.0\nnominal_of = 2.3\n',
           f'[sequence]\npretrigger_s = {pre}\nburn_s = {burn}\nposttrigger_s = {post}\n']
    for s, (rate, _, dtype) in streams.items():
        out.append(f'[streams.{s}]\nrate_hz = {rate}\ndtype = "{dtype}"\ndevice = "Dev-{s}"\n')
    for s, (_, nch, _) in streams.items():
        for c in range(nch):
            out.append(f'[channels.{s}-{c:04d}]\nstream = "{s}"\nphysical = "Dev-{s}/ai{c}"\nkind = "voltage"\n'
                       f'range = [-10.0, 10.0]\ncalibration = {{ type = "linear", slope = 1.0, offset = 0.0 }}\n'
                       f'units = "V"\nrole = "other"\n')
    return "\n".join(out)
