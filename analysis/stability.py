"""Combustion stability from the high-rate chamber pressure.

Works on the channel with role ``chamber_pressure_dynamic``:

- the **fluctuation** is the pressure minus its 10 ms centred moving
  average (a high-pass near 50 Hz: throttling and the start rise are not
  fluctuations);
- per window (default 0.1 s) across the burn: peak-to-peak and RMS of the
  fluctuation as % of the window's mean Pc, and the largest excursion from
  the mean. The conventional **smooth** bound is that the pressure stays
  within +-5 % of its mean; a window beyond it is **rough**. The verdict
  covers the burn from 0.2 s after its start to its end, leaving out the
  start transient (a hard start is reported by the thrust analysis as the
  start overpressure, ``peak_pc_ratio``);
- **Welch PSD** and **spectrogram** (``scipy.signal``), the dominant
  frequencies (narrow peaks standing out of the broadband floor), each with
  its amplitude (zero-to-peak of the equivalent sine, % of mean Pc) and the
  time it appears;
- the chamber's **predicted acoustic modes**, textbook estimates for a
  closed cylinder: first longitudinal ``1L = a / (2 L)`` and first
  tangential ``1T = 1.8412 a / (pi D)``, with the sound speed ``a`` of the
  combustion products from NASA CEA (equilibrium, chamber station) at the
  measured Pc and O/F. Real chambers (nozzle convergence, injector face,
  mean flow, temperature gradients) shift these by 10-20 %: they tell which
  mode family an oscillation belongs to, not its exact frequency.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import signal as sps
from scipy.ndimage import median_filter

from hotfire.core.runfile.reader import positions, samples_at
from hotfire.core.runfile.view import ChannelView, TimeSpan
from hotfire.core import units as U
from hotfire.core.pcstability import SMOOTH_BOUND_PERCENT, percent_stats
from hotfire.ext import _signal

J11 = 1.8412  # first zero of J1': first tangential mode of a cylinder


@dataclass
class StabilityWindow:
    start_s: float
    end_s: float
    mean_bar: float
    pk_pk_percent: float
    rms_percent: float
    max_excursion_percent: float
    smooth: bool


@dataclass
class Mode:
    frequency_hz: float
    amplitude_percent: float  # zero-to-peak of the equivalent sine, % of mean Pc, where present
    onset_s: float | None  # first time it stands out, seconds from T0
    nearest_predicted: str = ""  # "1L", "1T", ...
    predicted_hz: float | None = None


@dataclass
class Stability:
    channel: str
    rate_hz: float
    interval_s: tuple[float, float]
    mean_pc_bar: float
    verdict: str  # "smooth" or "rough"
    bound_percent: float
    max_excursion_percent: float
    max_pk_pk_percent: float
    max_rms_percent: float
    rough_from_s: float | None
    windows: list[StabilityWindow] = field(default_factory=list)
    modes: list[Mode] = field(default_factory=list)
    predicted_modes: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # arrays for plots (not in to_dict)
    psd: tuple | None = None  # (f Hz, Pa^2/Hz)
    spectrogram: tuple | None = None  # (f Hz, t s from T0, Pa^2/Hz)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("psd", None)
        d.pop("spectrogram", None)
        return d


def spectra(x: np.ndarray, fs: float, nperseg: int):
    """Spectrogram and Welch PSD from one pass of Hann segments overlapping by 1/8.

    Returns ``(f Hz, t s from x[0], S (t, f) Pa^2/Hz float32, P Pa^2/Hz)``:
    ``S.T`` as ``scipy.signal.spectrogram(x, fs, "hann", nperseg,
    nperseg // 8, detrend=False)`` (scipy's default overlap) and ``P``, the
    mean of its segments, as ``scipy.signal.welch(x, fs, "hann", nperseg,
    nperseg // 8, detrend=False)``. The
    fluctuation has no mean to remove; the segments are transformed in
    float32 batches that stay in cache (scipy's per-segment machinery, in
    float64, took several times as long on long records, and the two
    estimates would transform every sample twice).
    """
    import scipy.fft
    from numpy.lib.stride_tricks import sliding_window_view

    x = np.asarray(x, dtype=np.float32)
    win = sps.get_window("hann", nperseg).astype(np.float32)
    frames = sliding_window_view(x, nperseg)[:: _hop(nperseg)]
    S = np.empty((len(frames), nperseg // 2 + 1), np.float32)
    scale = 1.0 / (fs * float(np.sum(win.astype(float) ** 2)))
    step = max(1, (1 << 20) // (4 * nperseg))  # ~1 MiB of segments per batch
    for i in range(0, len(frames), step):
        X = scipy.fft.rfft(frames[i:i + step] * win, axis=1, overwrite_x=True)
        _signal.one_sided_power(X, S[i:i + step], scale, nperseg % 2 == 0)
    t = (np.arange(len(frames)) * _hop(nperseg) + nperseg / 2) / fs
    P = S.mean(axis=0, dtype=np.float64)
    return np.fft.rfftfreq(nperseg, 1.0 / fs), t, S, P


def predicted_modes(article, sound_speed: float) -> dict:
    """Textbook 1L / 1T acoustic mode frequencies of a cylindrical chamber (see module doc)."""
    out = {"sound_speed_m_s": sound_speed,
           "basis": "closed cylinder: 1L = a/(2L), 1T = 1.8412 a/(pi D); a from CEA (equilibrium, chamber)"}
    if article.chamber_length_mm:
        out["1L"] = sound_speed / (2 * article.chamber_length_mm * 1e-3)
    if article.chamber_diameter_mm:
        out["1T"] = J11 * sound_speed / (math.pi * article.chamber_diameter_mm * 1e-3)
    return out


def _hop(nseg: int) -> int:
    """Segment step: scipy.signal.spectrogram's default overlap of 1/8 segment."""
    return nseg - nseg // 8


def _nseg(fs: float) -> int:
    """Spectrogram segment length: a power of two giving ~12.5 Hz resolution."""
    return int(2 ** math.ceil(math.log2(max(256, fs / 12.5))))


@dataclass
class Prepared:
    """The costly part of a stability analysis, done before the burn is known.

    The fluctuation of one channel's pressure (the pressure minus its
    moving average, its "slow part") over a span of the record, per-block
    statistics of both, and the spectrogram of the
    fluctuation on segments overlapping by 1/8 from the span's first sample.
    :func:`analyze_stability` takes what lies in the burn from it.
    """

    name: str
    stream: str
    rate_hz: float
    segs: np.ndarray  # where the samples sit in the stream (Run.raw_segments)
    fluct: np.ndarray  # Pa, float32
    nseg: int
    f: np.ndarray  # Hz
    S: np.ndarray  # (segments, f) Pa^2/Hz, float32
    window_n: int = 0  # samples per statistics window
    block: int = 1  # samples per block of the per-block sums below (divides window_n)
    blocks: dict = field(default_factory=dict)  # min, max, sum, sumsq of the fluctuation, sum of slow

    def covers(self, run, t) -> bool:
        lo, hi = run.sample_range(self.stream, t)
        return len(self.segs) > 0 and self.segs[0, 0] <= lo and hi <= self.segs[-1, 0] + self.segs[-1, 2]


def _block(n: int) -> int:
    """The largest divisor of a window's ``n`` samples that leaves >= 500 blocks per window."""
    return next(b for b in range(max(1, n // 500), 0, -1) if n % b == 0)


def prepare(pc: ChannelView, t: TimeSpan | None = None, detrend_s: float = 0.01, window_s: float = 0.1) -> Prepared:
    """Convert, detrend and transform the channel ``pc`` (``run.view(name)``) over ``t``
    (seconds from T0; default the record).

    The fluctuation is the pressure minus its ``detrend_s`` centred moving
    average. Per block of ~1/500 of a ``window_s`` window: the fluctuation's
    extremes, sum and sum of squares and the slow part's sum, from which
    the windows of any burn add up. Releases the GIL for nearly all of its
    time, so it can run in a thread beside the other analyses.
    """
    info = pc.info
    raw, segs = pc.raw(t)
    fs = pc.rate_hz
    k = max(3, int(round(detrend_s * fs)) | 1)
    n = _window_n(window_s, fs)
    b = _block(n)
    eu = info.scaling.affine()
    if eu is not None:  # raw -> Pa folded into the one pass
        us, uo = U.affine(info.units)
        fl, blocks = _signal.detrend_blocks(raw, k, eu[0] * us, eu[1] * us + uo, b)
    else:
        fl, blocks = _signal.detrend_blocks(U.to_si(np.asarray(info.scaling.to_eu(raw), dtype=float), info.units), k, 1.0, 0.0, b)
    blocks["slow"] = blocks.pop("ysum")
    nseg = min(_nseg(fs), int(2 ** math.floor(math.log2(max(2, len(fl))))))
    if len(fl) >= nseg >= 16:
        f, _, S, _ = spectra(fl, fs, nseg)
    else:
        f, S = np.fft.rfftfreq(nseg, 1.0 / fs), np.empty((0, nseg // 2 + 1), np.float32)
    return Prepared(info.name, info.stream, fs, segs, fl, nseg, f, S, n, b, blocks)


def _window_n(window_s: float, fs: float) -> int:
    return max(16, int(round(window_s * fs)))


def _window_stats(pr: Prepared, i0: int, i1: int):
    """Per-window (first, last position, mean slow Pa, fluctuation min, max, sum, sum of squares) from
    ``i0`` on. The windows start at the first block boundary at or after ``i0`` (within 1/500 window)."""
    n, b = pr.window_n, pr.block
    k = n // b
    q0 = -(-i0 // b)
    m = max(0, (i1 - q0 * b) // n)
    B = {key: v[q0: q0 + m * k].reshape(m, k) for key, v in pr.blocks.items()}
    first = q0 * b + np.arange(m) * n
    return (first, first + n - 1, B["slow"].sum(axis=1) / n, B["min"].min(axis=1).astype(float),
            B["max"].max(axis=1).astype(float), B["sum"].sum(axis=1), B["sumsq"].sum(axis=1), n)


def analyze_stability(run, burn: tuple[float, float], pc_bar: float | None = None, of: float | None = None,
                      health: dict | None = None, window_s: float = 0.1, settle_s: float = 0.2,
                      detrend_s: float = 0.01, max_modes: int = 5,
                      prepared: Prepared | None = None) -> Stability | None:
    """Stability of the burn on the first healthy ``chamber_pressure_dynamic`` channel.

    Parameters
    ----------
    run : Run
    burn : (float, float)
        Burn start and end, seconds from T0 (from the thrust analysis).
    pc_bar, of : float, optional
        Measured steady Pc and O/F, for the CEA sound speed (nominal when not given).
    health : dict of ChannelHealth, optional
    prepared : Prepared, optional
        :func:`prepare` done beforehand (e.g. in a thread while the burn was
        being found); used when it is of the chosen channel and covers the burn.

    Returns
    -------
    Stability, or None when the run has no usable high-rate Pc channel.
    """
    names = [c.name for c in run.channels if c.role == "chamber_pressure_dynamic"]
    notes = []
    a, b = burn[0] + settle_s, burn[1]
    name = None
    for n in names:
        h = (health or {}).get(n)
        if h is None or h.usable(a, b):
            name = n
            break
        notes.append(f"{n} not used: {'; '.join(h.problems)}")
    if name is None:
        return None
    span = (burn[0] - 0.05, burn[1] + 0.05)
    pr = prepared
    if pr is None or pr.name != name or pr.nseg != _nseg(pr.rate_hz) or not pr.covers(run, span) \
            or pr.window_n != _window_n(window_s, pr.rate_hz):
        pr = prepare(run.view(name), span, detrend_s, window_s)
    fs = pr.rate_hz
    lo, hi = run.sample_range(pr.stream, (a, b))
    i0, i1 = (int(i) for i in positions(pr.segs, [lo, hi]))
    if i1 - i0 < 16:
        return None
    fls = pr.fluct[i0:i1]
    tsel = run.times(pr.stream, samples_at(pr.segs, [i0, i1 - 1]))
    q0, q1 = -(-i0 // pr.block), i1 // pr.block  # the whole blocks inside: within a block of the ends
    mean_pc = float(pr.blocks["slow"][q0:q1].sum() / ((q1 - q0) * pr.block)) if q1 > q0 \
        else float(np.mean(pr.blocks["slow"][max(0, q0 - 1):q0 + 1]) / pr.block)

    # per-window statistics
    first, last, S, fmin, fmax, fsum, fsq, n = _window_stats(pr, i0, i1)
    windows = []
    if len(first):
        T = run.times(pr.stream, samples_at(pr.segs, np.concatenate((first, last)))).reshape(2, -1)
        pk, rms, exc = percent_stats(fmin, fmax, fsum, fsq, n, S)
        for i in range(len(first)):
            windows.append(StabilityWindow(float(T[0, i]), float(T[1, i]), float(S[i] / 1e5), float(pk[i]),
                                           float(rms[i]), float(exc[i]), bool(exc[i] <= SMOOTH_BOUND_PERCENT)))
    rough = [w for w in windows if not w.smooth]

    # spectra: the prepared segments that lie in the burn give the spectrogram, their mean the
    # Welch PSD (~12 Hz resolution); a burn shorter than a few segments gets shorter ones
    hop = _hop(pr.nseg)
    k0, k1 = -(-i0 // hop), (i1 - pr.nseg) // hop + 1  # the segments inside [i0, i1)
    k1 = min(k1, len(pr.S))
    if k1 - k0 >= 4:
        nseg, fsg, Sxx = pr.nseg, pr.f, pr.S[k0:k1]
        P = Sxx.mean(axis=0, dtype=np.float64)
        tsg = run.times(pr.stream, samples_at(pr.segs, np.arange(k0, k1) * hop)) + (nseg / 2) / fs
    else:
        nseg = min(pr.nseg, int(2 ** math.floor(math.log2(len(fls)))))
        fsg, tsg, Sxx, P = spectra(fls, fs, nseg)
        tsg = tsg + tsel[0]
    f = fsg
    df = dfs = f[1] - f[0]

    # dominant frequencies: narrow peaks well above the broadband floor
    modes = []
    band = f > 20.0
    # the floor: a running median over ~500 Hz, which a narrow peak does not lift
    floor = median_filter(np.where(band, P, np.median(P[band])), max(11, int(500 / df) | 1), mode="nearest")
    floor = np.maximum(floor, np.median(P[band]) * 1e-3)
    peaks, _ = sps.find_peaks(np.where(band, P, 0), height=20 * floor, distance=max(1, int(20 / df)))
    peaks = sorted(peaks, key=lambda i: -P[i])[:max_modes]
    for i in peaks:
        lo, hi = max(0, i - 4), min(len(f), i + 5)
        fc = float(np.sum(f[lo:hi] * P[lo:hi]) / np.sum(P[lo:hi]))
        # amplitude over time from the spectrogram: band power around fc
        j = int(round(fc / dfs))
        jl, jh = max(0, j - 3), min(len(fsg), j + 4)
        amp_t = np.sqrt(2 * np.sum(Sxx[:, jl:jh], axis=1) * dfs)  # zero-to-peak of a sine, Pa
        # the broadband level in bands of the same width beside the peak, per segment
        side = [x for x in (j - 30, j - 20, j + 20, j + 30) if 3 <= x < len(fsg) - 4]
        ref_t = (np.median([np.sqrt(2 * np.sum(Sxx[:, x - 3:x + 4], axis=1) * dfs) for x in side], axis=0)
                 if side else np.zeros_like(amp_t))
        present = (amp_t > 4 * ref_t) & (amp_t > 0.002 * mean_pc)
        if present.any():
            amp_pa = float(np.median(amp_t[present]))
            amp = amp_pa / mean_pc * 100
            # onset: where the amplitude first reaches half its level (segment centres, interpolated)
            q = int(np.argmax(amp_t >= 0.5 * amp_pa))
            onset = float(tsg[q])
            if q > 0:
                onset = float(np.interp(0.5 * amp_pa, [amp_t[q - 1], amp_t[q]], [tsg[q - 1], tsg[q]]))
        else:
            amp = float(np.sqrt(2 * np.sum(P[lo:hi]) * df) / mean_pc * 100)
            onset = None
        modes.append(Mode(fc, amp, onset))
    modes.sort(key=lambda md: -md.amplitude_percent)

    # predicted acoustic modes
    pred = {}
    art = run.article
    if art.chamber_length_mm or art.chamber_diameter_mm:
        if not art.missing("fuel", "oxidizer", "fuel_temperature_K", "oxidizer_temperature_K",
                           "expansion_ratio"):
            from hotfire.core.theory import theoretical

            pcb = pc_bar or mean_pc / 1e5
            o = of or art.nominal_of
            if o:
                th = theoretical(art.fuel, art.oxidizer, pcb, o, art.expansion_ratio, art.ambient_pressure_bar,
                                 art.fuel_temperature_K, art.oxidizer_temperature_K)
                pred = predicted_modes(art, th.sound_speed)
                pred.update(pc_bar=pcb, of=o)
        else:
            notes.append("predicted acoustic modes need the propellants ([article] fuel, oxidizer, temperatures)")
    for md in modes:
        cands = [(k, v) for k, v in pred.items() if k in ("1L", "1T")]
        if cands:
            k, v = min(cands, key=lambda kv: abs(math.log(md.frequency_hz / kv[1])))
            md.nearest_predicted, md.predicted_hz = k, float(v)

    return Stability(
        channel=name, rate_hz=fs, interval_s=(float(tsel[0]), float(tsel[1])), mean_pc_bar=mean_pc / 1e5,
        verdict="rough" if rough else "smooth", bound_percent=SMOOTH_BOUND_PERCENT,
        max_excursion_percent=max((w.max_excursion_percent for w in windows), default=float("nan")),
        max_pk_pk_percent=max((w.pk_pk_percent for w in windows), default=float("nan")),
        max_rms_percent=max((w.rms_percent for w in windows), default=float("nan")),
        rough_from_s=rough[0].start_s if rough else None,
        windows=windows, modes=modes, predicted_modes=pred,
        settings={"window_s": window_s, "settle_s": settle_s, "detrend_s": detrend_s, "welch_nperseg": nseg,
                  "spectrogram_nperseg": nseg, "smooth_bound_percent": SMOOTH_BOUND_PERCENT},
        notes=notes, psd=(f, P), spectrogram=(fsg, tsg, Sxx.T),
    )
