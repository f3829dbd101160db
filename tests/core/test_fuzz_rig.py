"""Fuzzing the rig parser: any text gives a Rig or a RigError naming file and line, never a traceback."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
from fuzzing import FUZZ, no_hang  # noqa: E402

from hotfire.core.rig import RigError, parse_rig  # noqa: E402

RIGS = Path(__file__).parents[2] / "rigs"
BASE = (RIGS / "lox-ethanol-5kN.toml").read_text().splitlines()
VALUES = ["inf", "-inf", "nan", "0", "-1", "1e308", "1e-320", "2e19", "99999999999999999999", '""', '"x"',
          "[]", "[1]", "[1, 2, 3]", "[inf, 1]", "{}", "{ min = 1 }", "true", "1979-05-27", '"\\u0000"',
          "[[1], [2]]", '"cDAQ1Mod3/ai0"', "0.001", "1e7"]


def _parse(text: str) -> None:
    try:
        with no_hang(10):
            parse_rig(text, "fuzz.toml")
    except RigError as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.toml:") and exc.line is not None, msg


@st.composite
def mutated(draw):
    lines = list(BASE)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "delete", "duplicate", "insert", "chars"]))
        if op == "value" and "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + draw(st.sampled_from(VALUES))
        elif op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(BASE)).replace("[channels.", "[channels.x"))
        else:
            s = lines[i]
            j = draw(st.integers(0, len(s)))
            lines[i] = s[:j] + draw(st.text(max_size=5)) + s[j + draw(st.integers(0, 3)):]
        if not lines:
            break
    return "\n".join(lines)


@FUZZ
@given(mutated())
def test_mutated_rigs(text):
    _parse(text)


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text(text):
    _parse(text)
