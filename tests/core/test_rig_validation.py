"""Rig validation of values TOML accepts but a stand cannot have (issue 20's list).

Each case edits the bundled rig and checks the error names file, line and key.
"""
from __future__ import annotations

import pytest

from hotfire.core.errors import HotfireError
from hotfire.core.rig import RigError, check_simulatable, load_rig, parse_rig
from hotfire.daq.sources import open_source

DEFAULT = "lox-ethanol-5kN"


def _line(text, needle, after=None):
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if after in ln) if after else 0
    return next(i for i, ln in enumerate(lines[start:], start=start + 1) if needle in ln)


# (description, old, new, key, marker line text, section the marker follows, message fragment)
CASES = [
    ("infinite range", "range = [0.0, 10.0]", "range = [0.0, inf]", "channels.PC.range",
     "range = [0.0, inf]", None, "finite"),
    ("NaN range", "range = [0.0, 10.0]", "range = [nan, 10.0]", "channels.PC.range",
     "range = [nan, 10.0]", None, "finite"),
    ("burn of 1e12 s", "burn_s = 4.0", "burn_s = 1e12", "sequence.burn_s", "burn_s = 1e12", None, "at most 3600"),
    ("pretrigger of a day", "pretrigger_s = 2.0", "pretrigger_s = 86400.0", "sequence.pretrigger_s",
     "pretrigger_s = 86400.0", None, "at most 600"),
    ("10 MHz on a cDAQ module", "rate_hz = 51200", "rate_hz = 10e6", "streams.dynamic.rate_hz",
     "rate_hz = 10e6", None, "cdaq device"),
    ("0.001 Hz", "rate_hz = 100\n", "rate_hz = 0.001\n", "streams.slow.rate_hz", "rate_hz = 0.001", None,
     "1 Hz .. 1e+06 Hz"),
    ("redline below its warning", "warning = { max = 24.0 }", "warning = { max = 30.0 }",
     "channels.PC.warning.max", "warning = { max = 30.0 }", None, "below the redline max (27)"),
    ("warning equal to the redline", "warning = { max = 24.0 }", "warning = { max = 27.0 }",
     "channels.PC.warning.max", "warning = { max = 27.0 }", None, "below the redline max"),
    ("min warning below the min redline", "redline = { max = 27.0 }\nwarning = { max = 24.0 }",
     "redline = { min = 2.0, max = 27.0 }\nwarning = { min = 1.0, max = 24.0 }", "channels.PC.warning.min",
     "warning = { min = 1.0", None, "above the redline min (2)"),
    ("infinite polynomial coefficient", "coefficients = [-0.75", "coefficients = [inf", "channels.FM-OX.calibration.coefficients",
     "coefficients = [inf", None, "finite"),
]


@pytest.mark.parametrize("desc,old,new,key,marker,after,fragment", CASES, ids=[c[0] for c in CASES])
def test_implausible_values_name_file_line_and_key(tmp_path, rigs_dir, desc, old, new, key, marker, after, fragment):
    text = (rigs_dir / f"{DEFAULT}.toml").read_text()
    assert old in text, f"test setup: {old!r} not in the rig"
    bad = text.replace(old, new, 1)
    path = tmp_path / "bad.toml"
    path.write_text(bad)
    with pytest.raises(RigError) as info:
        load_rig(path)
    msg = str(info.value)
    line = _line(bad, marker, after)
    assert msg.startswith(f"{path}:{line}: {key}: "), msg
    assert fragment in msg, msg


def test_channel_names_differing_only_in_case(tmp_path, rigs_dir):
    text = (rigs_dir / f"{DEFAULT}.toml").read_text()
    block = text[text.index("[channels.PC]"):]
    block = block[:block.index("\n[", 1) + 1]
    bad = text + "\n" + block.replace("[channels.PC]", "[channels.pc]").replace(
        'physical = "cDAQ1Mod3/ai0"', 'physical = "cDAQ1Mod3/ai7"')
    assert "[channels.pc]" in bad
    with pytest.raises(RigError) as info:
        parse_rig(bad, "case.toml")
    line = _line(bad, "[channels.pc]")
    assert str(info.value).startswith(f"case.toml:{line}: channels.pc: channel name differs only in case from 'PC'")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file_names_line_and_key(tmp_path, text):
    p = tmp_path / "empty.toml"
    p.write_text(text)
    with pytest.raises(RigError) as info:
        load_rig(p)
    assert str(info.value).startswith(f"{p}:1: rig: the file is empty"), str(info.value)
    assert info.value.line == 1 and info.value.key == "rig"


def test_missing_top_table_has_a_line(tmp_path, rigs_dir):
    text = (rigs_dir / f"{DEFAULT}.toml").read_text()
    cut = text[:text.index("[article]")]  # only [rig]
    with pytest.raises(RigError) as info:
        parse_rig(cut, "cut.toml")
    assert str(info.value).startswith("cut.toml:1: ") and "article" in str(info.value)


def test_imported_streams_keep_slow_rates(rigs_dir):
    text = (rigs_dir / f"{DEFAULT}.toml").read_text().replace("rate_hz = 100\n", "rate_hz = 0.5\n", 1)
    with pytest.raises(RigError):
        parse_rig(text, "x.toml")
    ok = parse_rig(text.replace('device = "cDAQ1Mod1"', 'device = "import"', 1), "x.toml")
    assert ok.streams["slow"].rate_hz == 0.5


def test_simulator_refuses_a_firing_it_cannot_compute(rigs_dir):
    rig = load_rig(rigs_dir / f"{DEFAULT}.toml")
    check_simulatable(rig)  # the bundled 8 s firing is fine
    with pytest.raises(RigError, match=r":\d+: sequence.burn_s: the simulator computes firings of at most 300 s"):
        check_simulatable(rig, burn_s=1e12)
    text = rig.text.replace("burn_s = 4.0", "burn_s = 3000.0")
    long = parse_rig(text, "long.toml")  # plausible for a stand ...
    with pytest.raises(HotfireError, match="long.toml:24: sequence.burn_s"):  # ... not for the simulator
        open_source(long, "simulator")
