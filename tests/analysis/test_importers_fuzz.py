"""Fuzzing the importers (tables, RASP, LabVIEW .lvm, JSON logs): a run file or an ImportFailed (HotfireError), never a traceback."""
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


SEMI = ("Stand B\ntime_ms;Force(lbf);Pc [psi];Status\n0,0;1,5;14,7;ok\n10,0;120,25;;ok\n20,0;240,5;300,1;ok\n"
        "30,0;238,0;299,8;ok\n")
ROWS = "0.0,0.01,0.02,0.02,0.03,0.05,0.06,0.07,0.08,0.09,0.10,0.11,0.12,0.13,0.14,0.15,0.16,0.17\n" + ",".join(
    str(0.1 * (i % 7)) for i in range(18)) + "\n"
STAMPS = ("Datetime;Battery Level (%);5600 Pressure (Bar)\n2025-01-18 19:33:06.564;100;1.290\n"
          "2025-01-18 19:33:06.664;100;1.290\n2025-01-18 19:33:06.764;100;25.5\n2025-01-18 19:33:06.864;100;1.3\n")
LVM = ("LabVIEW Measurement\t\nWriter_Version\t2\nSeparator\tTab\nDecimal_Separator\t.\nX_Columns\tOne\n"
       "Date\t2025/02/20\nTime\t14:03:05.1\n***End_of_Header***\t\n\nChannels\t2\t\nSamples\t3\t3\t\n"
       "Date\t2025/02/20\t2025/02/20\t\nTime\t14:03:05.1\t14:03:05.1\t\nY_Unit_Label\tN\tbar\t\nX0\t0\t0\t\n"
       "Delta_X\t0.01\t0.01\t\n***End_of_Header***\t\nX_Value\tThrust\tPc\tComment\n0.00\t1.0\t1.0\n"
       "0.01\t500.0\t20.0\n0.02\t501.0\t20.1\n")
JSON = '[{"t": 0.0, "thrust_N": 1.0, "pc_bar": 1.0},\n {"t": 0.01, "thrust_N": 500, "pc_bar": null},\n' \
       ' {"t": 0.02, "thrust_N": 510, "pc_bar": 20.5}]\n'
JSONL = '{"time": "2025-02-20 14:03:05.100", "Thrust (N)": 1}\n{"time": "2025-02-20 14:03:05.110", "Thrust (N)": 9}\n' \
        '{"time": "2025-02-20 14:03:05.120", "Thrust (N)": 12}\n'
ARRAYS = '{"time": [0, 0.1, 0.2, 0.3], "Force": [0, 10, 11, 0], "units": {"Force": "lbf"}, "stand": "B"}'


@FUZZ
@given(mutated(SEMI))
def test_semicolon_decimal_comma_table(tmp_path_factory, text):
    _import(tmp_path_factory, text, ".csv")


@FUZZ
@given(mutated(ROWS))
def test_rows_as_channels(tmp_path_factory, text):
    _import(tmp_path_factory, text, ".csv")


@FUZZ
@given(mutated(STAMPS))
def test_date_time_stamps(tmp_path_factory, text):
    _import(tmp_path_factory, text, ".csv")


@FUZZ
@given(mutated(LVM))
def test_lvm(tmp_path_factory, text):
    _import(tmp_path_factory, text, ".lvm")


@FUZZ
@given(mutated(JSON))
def test_json_records(tmp_path_factory, text):
    _import(tmp_path_factory, text, ".json")


@FUZZ
@given(mutated(JSONL))
def test_json_lines(tmp_path_factory, text):
    _import(tmp_path_factory, text, ".jsonl")


@FUZZ
@given(mutated(ARRAYS))
def test_json_arrays(tmp_path_factory, text):
    _import(tmp_path_factory, text, ".json")
