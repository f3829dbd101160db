"""Fuzzing the CSV and RASP importers: a run file or an ImportFailed (HotfireError), never a traceback."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
from fuzzing import FUZZ, no_hang  # noqa: E402

from hotfire.analysis.importers import import_file  # noqa: E402
from hotfire.core.errors import HotfireError  # noqa: E402

ENG = """; a RASP motor
H128 29 194 14 0.0908 0.2055 AT
0.01 12.0
0.2 180.0
0.5 160.0
1.0 140.0
1.5 0.0
"""
CSV = "time_s,Thrust_N,Pc_bar\n0.000,0.0,1.0\n0.001,10.5,2.0\n0.002,20.0,3.5\n0.003,19.0,3.4\n"
TOKENS = ["", " ", ",", "\n", ";", "nan", "inf", "-inf", "1e308", "-0", "1e-320", "x", "0", "1", "-5", "#", '"', "\t"]


@st.composite
def mutated(draw, base):
    text = base
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text)))
        j = i + draw(st.integers(0, 8))
        text = text[:i] + draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=6))) + text[j:]
    return text


def _import(tmp_path_factory, text, suffix):
    d = tmp_path_factory.mktemp("imp")
    src = d / f"in{suffix}"
    src.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        with no_hang(20):
            import_file(src, d / "out.h5")
    except HotfireError:
        pass
    shutil.rmtree(d)


@FUZZ
@given(mutated(ENG))
def test_rasp(tmp_path_factory, text):
    _import(tmp_path_factory, text, ".eng")


@FUZZ
@given(mutated(CSV))
def test_csv(tmp_path_factory, text):
    _import(tmp_path_factory, text, ".csv")
