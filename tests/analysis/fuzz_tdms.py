"""Fuzzing the TDMS importer by hand: a run file or an ImportFailed (HotfireError), never a traceback or a hang.

Not collected by pytest (the suite's importer fuzz is test_importers_fuzz.py);
run it by hand, nice'd::

    HOTFIRE_FUZZ_EXAMPLES=10000 nice .venv/bin/python tests/analysis/fuzz_tdms.py

Two kinds of input: a valid file written by npTDMS with bytes overwritten
(lengths, offsets, type codes, data), and files written whole with odd
content (string, timestamp or empty channels; ``wf_increment`` zero,
negative, NaN or text; clocks that differ). Each example runs under a
10 s alarm (npTDMS is Python: a loop in it is interruptible). Prints
``ok N (imported I, refused R)``.
"""
from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, strategies as st

sys.path.insert(0, str(Path(__file__).parents[1]))
from fuzzing import FUZZ, no_hang  # noqa: E402

from hotfire.analysis.importers import import_tdms  # noqa: E402
from hotfire.core.errors import HotfireError  # noqa: E402

WORK = Path(tempfile.mkdtemp(prefix="fuzz-tdms-"))
logging.disable(logging.WARNING)  # npTDMS warns on every damaged file: expected here
count = {"n": 0, "imported": 0, "refused": 0}


def _valid(path: Path) -> bytes:
    from nptdms import ChannelObject, GroupObject, RootObject, TdmsWriter

    t = np.arange(400) / 200.0
    with TdmsWriter(str(path)) as w:
        props = {"wf_increment": 1 / 200.0, "wf_start_offset": -0.5}
        w.write_segment([
            RootObject({"name": "stand test"}), GroupObject("fast"),
            ChannelObject("fast", "Thrust", np.where(t > 0.5, 1000.0, 3.0), {**props, "unit_string": "N"}),
            ChannelObject("fast", "Pc", np.where(t > 0.5, 10.0, 1.0).astype(np.float32), {**props, "unit_string": "bar"}),
            ChannelObject("slow", "T amb", np.full(20, 21, np.int16), {"wf_increment": 0.1, "unit_string": "degC"}),
        ])
        w.write_segment([ChannelObject("fast", "Thrust", np.full(50, 5.0), props)])  # a second segment
    return path.read_bytes()


BASE = _valid(WORK / "base.tdms")
INCREMENTS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["0.01", "x", ""]),
                       st.integers(-5, 5))
DATA = st.one_of(
    st.lists(st.floats(), max_size=50).map(lambda v: np.array(v, dtype=float)),
    st.lists(st.integers(-(2 ** 31), 2 ** 31 - 1), max_size=50).map(lambda v: np.array(v, dtype=np.int32)),
    st.lists(st.text(max_size=5), min_size=1, max_size=10),
    st.just(np.array([np.datetime64("2026-01-01T00:00:00", "us")] * 3)),
    st.just(np.array([True, False, True])),
)


@st.composite
def byte_damage(draw):
    data = bytearray(BASE)
    for _ in range(draw(st.integers(1, 4))):
        off = draw(st.integers(0, len(data) - 1))
        patch = draw(st.one_of(st.binary(min_size=1, max_size=16), st.sampled_from(
            [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80"])))
        data[off:off + len(patch)] = patch
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    return bytes(data)


@st.composite
def odd_file(draw):
    from nptdms import ChannelObject, RootObject, TdmsWriter
    import io

    objs = [RootObject({"name": draw(st.text(max_size=8))})]
    for i in range(draw(st.integers(0, 4))):
        props = {}
        if draw(st.booleans()):
            props["wf_increment"] = draw(INCREMENTS)
        if draw(st.booleans()):
            props["wf_start_offset"] = draw(st.floats())
        if draw(st.booleans()):
            props["unit_string"] = draw(st.text(max_size=6))
        objs.append(ChannelObject(draw(st.sampled_from(["g", "h", "g/x", ""])), draw(st.text(max_size=6)) or f"c{i}",
                                  draw(DATA), props))
    buf = io.BytesIO()
    try:
        with TdmsWriter(buf) as w:
            w.write_segment(objs)
    except Exception:  # an input npTDMS itself will not write: not the importer's business
        return BASE
    return buf.getvalue()


@FUZZ
@given(st.one_of(byte_damage(), odd_file()))
def fuzz(data):
    src, out = WORK / "in.tdms", WORK / "out.h5"
    src.write_bytes(data)
    (WORK / "last-example.bin").write_bytes(data)
    out.unlink(missing_ok=True)
    count["n"] += 1
    try:
        with no_hang(10):
            import_tdms(src, out)
        count["imported"] += 1
    except HotfireError:
        count["refused"] += 1


if __name__ == "__main__":
    fuzz()
    print(f"ok {count['n']} (imported {count['imported']}, refused {count['refused']})")
