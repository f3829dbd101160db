"""Calculated channels in acquisition: the rig's ``[calculated.NAME]``
channels evaluated block by block from the rings, by the code the analysis
uses afterwards (:class:`hotfire.core.calculated.Evaluator`).

A subscriber that needs them (the limit checker, the live publisher) makes
its own :class:`LiveCalculated` from its :class:`~hotfire.daq.acquisition.AcquisitionView`:
it reads the input streams with its own ring readers (read-only), scales
the input columns to engineering units with the device's scaling, as the
run file does, and returns each base-stream block as it becomes complete.
Evaluation is cheap (a few array operations per block), so each subscriber
doing it for itself costs less than sharing results between threads would.

Timing (see :mod:`hotfire.core.calculated`): values are dated on the
fastest input stream, slower inputs held; a value comes out once every
input has delivered what it holds, so a 100 Hz input delays a 10 kHz
calculated channel by at most one 10 ms sample, and live and recorded
values are the same.
"""
from __future__ import annotations

import numpy as np

from hotfire.core.calculated import Evaluator, evaluators
from hotfire.core.scaling import Scaling


class LiveCalculated:
    """Evaluate calculated channels from an acquisition's rings.

    Parameters
    ----------
    acq : AcquisitionView
    calcs : list of CalcChannel, optional
        Default: every calculated channel of the rig.

    Attributes
    ----------
    evaluators : list of Evaluator
        One per time base (``ev.stream``, ``ev.calcs``).
    lost : dict
        Stream -> input samples this reader fell behind on (their values are NaN).
    """

    def __init__(self, acq, calcs=None):
        self.acq = acq
        rig = acq.rig
        calcs = list(rig.calculated if calcs is None else calcs)
        adc = acq.source_metadata.get("adc") or {}
        names = list(dict.fromkeys(n for c in calcs for n in c.inputs))
        chans = {n: rig.channel(n) for n in names}
        rates = {s: st.rate_hz for s, st in acq.source.streams.items()}
        self.evaluators: list[Evaluator] = evaluators(calcs, {n: (ch.stream, ch.units) for n, ch in chans.items()},
                                                      rates) if calcs else []
        self._cols = {}  # stream -> [(name, column, Scaling)]
        for n, ch in chans.items():
            self._cols.setdefault(ch.stream, []).append((n, ch.column, Scaling(adc.get(n, ch.adc), ch.calibration)))
        self.readers = {s: acq.rings[s].reader(start=0) for s in self._cols}
        self.bufs = {s: np.empty((max(1, min(r.capacity // 4, 1 << 16)), r.n_channels), r.dtype)
                     for s, r in self.readers.items()}
        self.lost = {s: 0 for s in self._cols}

    @property
    def calcs(self):
        return [c for ev in self.evaluators for c in ev.calcs]

    def poll(self) -> list[tuple[Evaluator, int, np.ndarray, np.ndarray]]:
        """Read what the rings hold and evaluate: ``[(evaluator, first sample, values, checked)]``.

        ``values`` is ``(n, len(evaluator.calcs))`` in each channel's units;
        ``checked`` says where each one's limits apply (its ``check_while``).
        """
        for s, r in self.readers.items():
            buf = self.bufs[s]
            while r.available:
                first, n, gap = r.read_into(buf)
                if gap is not None:
                    self.lost[s] += gap.count
                for sample0, off, count in self.acq.clocks[s].split(first, n):
                    block = buf[off:off + count]
                    cols = {name: sc.to_eu(block[:, col]) for name, col, sc in self._cols[s]}
                    for ev in self.evaluators:
                        ev.feed(s, sample0, cols)
        out = []
        for ev in self.evaluators:
            got = ev.take()
            if got is not None:
                out.append((ev, *got))
        return out

    @property
    def available(self) -> bool:
        """Whether a reader has rows not read yet."""
        return any(r.available for r in self.readers.values())
