"""The rig's calculated channels in replay, evaluated as acquisition did live.

Live, the publisher sends each time base's calculated values as a stream
``<base>:calculated`` (:func:`hotfire.core.calculated.calc_stream`) whose
channels are :meth:`CalcChannel.as_channel`; the viewer plots them like any
other. Replay makes the same streams from the run file with
:func:`hotfire.core.calculated.evaluate_run` (the analysis's and the live
evaluator's code), so the charts, readouts, cursors and markers of a
calculated channel are the same in both.
"""
from __future__ import annotations

import numpy as np

from hotfire.core.calculated import calc_stream, evaluate_run
from hotfire.core.runfile.reader import RunFileError
from hotfire.gui.meta import StreamMeta
from hotfire.gui.filestore import FileStore


class CalcStore(FileStore):
    """Calculated values of one time base, held in memory, drawn like a file's stream.

    Parameters
    ----------
    meta : StreamMeta
        The ``<base>:calculated`` stream (the base stream's rate and offset).
    first : int
        Base-stream sample index of ``values[:, 0]``.
    values : ndarray
        ``(n_channels, n)`` in each channel's units, NaN where not defined.
    """

    def __init__(self, meta, first: int, values: np.ndarray, seconds0: float = 10.0):
        self.meta, self.stream = meta, meta.name
        self.values = np.asarray(values, np.float32)
        self.lo, self.hi = int(first), int(first) + self.values.shape[1]
        self.damage = []
        self._reduce(self.values.shape[0], seconds0)

    def _read(self, i0: int, i1: int) -> np.ndarray:
        out = np.full((self.values.shape[0], max(0, i1 - i0)), np.nan, np.float32)
        a, b = max(i0, self.lo), min(i1, self.hi)
        if a < b:
            out[:, a - i0:b - i0] = self.values[:, a - self.lo:b - self.lo]
        return out


def calculated(run, meta):
    """The run's calculated channels as the live view's streams.

    Parameters
    ----------
    run : Run
    meta : RunMeta
        The run's measured streams (for each time base's rate and offset).

    Returns
    -------
    streams : dict
        ``<base>:calculated`` -> StreamMeta (``calculated=True``).
    channels : list of Channel
    stores : dict
        Stream name -> :class:`CalcStore`.
    problem : str
        Why none could be evaluated (a damaged input span), else ``""``.
    """
    try:
        series = evaluate_run(run)
    except RunFileError:  # an input's samples fail their checksums: nothing made from them is drawn
        names = ", ".join(c.name for c in run.rig.calculated)
        return {}, [], {}, f"calculated channels not drawn ({names}): an input has damaged samples"
    by_base: dict[str, list] = {}
    for s in series.values():
        by_base.setdefault(s.channel.stream, []).append(s)
    streams, channels, stores = {}, [], {}
    for base, group in by_base.items():
        name = calc_stream(base)
        b = meta.streams[base]
        st = StreamMeta(name, b.rate_hz, tuple(s.channel.name for s in group), b.offset_s, calculated=True)
        streams[name] = st
        channels += [s.channel.as_channel(name, k) for k, s in enumerate(group)]
        # the channels of one time base come from one evaluator: the same samples
        stores[name] = CalcStore(st, int(group[0].sample[0]), np.stack([s.values for s in group]))
    return streams, channels, stores, ""
