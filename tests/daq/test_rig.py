"""Rig files: both bundled rigs load; every kind of bad input names file, line and key."""
import re

import pytest

from hotfire.core.rig import RigError, load_rig, parse_rig

DEFAULT = "lox-ethanol-5kN"


def test_bundled_rigs_load(rigs_dir):
    small = load_rig(rigs_dir / "lox-ethanol-5kN.toml")
    large = load_rig("lox-rp1-100kN")  # by bundled name
    assert set(small.streams) == {"slow", "main", "dynamic"}
    assert small.streams["dynamic"].rate_hz >= 50_000 and large.streams["hf"].rate_hz >= 50_000
    # same roles, different names, rates and units: what comparisons rely on
    assert small.by_role("chamber_pressure")[0].name != large.by_role("chamber_pressure")[0].name
    assert large.by_role("chamber_pressure")[0].units == "psi"
    assert len(large.by_role("thrust")) == 2
    pc = small.channel("PC")
    assert pc.stream == "main" and pc.column == 1 and pc.redline.max == 27.0
    assert small.article.throat_area_m2 == pytest.approx(3.14159265 / 4 * 0.048**2)
    assert len(small.sha256) == 64


def _line_of(text, needle):
    """Line of ``needle``, or of ``needle[1]`` after the line holding ``needle[0]``."""
    section = None
    if isinstance(needle, tuple):
        section, needle = needle
    for i, line in enumerate(text.splitlines(), start=1):
        if section:
            if section in line:
                section = None
            continue
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in rig text")


# (description, old text, new text, expected key, text marking the expected line)
BAD = [
    ("typo in a key", 'units = "bar"\nrole = "chamber_pressure"',
     'untis = "bar"\nrole = "chamber_pressure"', "channels.PC.untis", 'untis = "bar"'),
    ("unknown extra key", 'serial = "PT-5531"', 'serial = "PT-5531"\nlocation = "bay 2"',
     "channels.PC.location", 'location = "bay 2"'),
    ("missing required key", 'role = "ox_injector_pressure"\n', "", "channels.P-OX-INJ", "[channels.P-OX-INJ]"),
    ("reversed range", "range = [0.0, 10.0]\ncalibration = { type = \"linear\", slope = 5.0, offset = 0.0 }",
     "range = [10.0, 0.0]\ncalibration = { type = \"linear\", slope = 5.0, offset = 0.0 }",
     "channels.PC.range", "range = [10.0, 0.0]"),
    ("unknown role", 'role = "chamber_pressure"\n', 'role = "chamber_presure"\n',
     "channels.PC.role", 'role = "chamber_presure"'),
    ("unknown stream", 'stream = "dynamic"', 'stream = "fast"', "channels.PC-DYN.stream", 'stream = "fast"'),
    ("duplicate physical channel", 'physical = "cDAQ1Mod3/ai1"', 'physical = "cDAQ1Mod3/ai0"',
     "channels.P-OX-INJ.physical", ("[channels.P-OX-INJ]", "physical =")),
    ("negative sample rate", "rate_hz = 5000", "rate_hz = -5000", "streams.main.rate_hz", "rate_hz = -5000"),
    ("unknown dtype", 'dtype = "int32"\ndevice = "cDAQ1"', 'dtype = "int12"\ndevice = "cDAQ1"',
     "streams.main.dtype", 'dtype = "int12"'),
    ("unknown calibration type", '{ type = "linear", slope = 5.0 }', '{ type = "linaer", slope = 5.0 }',
     "channels.P-OX-INJ.calibration.type", 'type = "linaer"'),
    ("calibration missing its slope", 'calibration = { type = "linear", slope = 5.0 }\nunits = "bar"\nrole = "fuel_injector_pressure"',
     'calibration = { type = "linear" }\nunits = "bar"\nrole = "fuel_injector_pressure"',
     "channels.P-F-INJ.calibration", 'calibration = { type = "linear" }'),
    ("table signal not increasing", "signal = [4.0, 12.0, 20.0]", "signal = [4.0, 20.0, 12.0]",
     "channels.P-OX-TANK.calibration.signal", "signal = [4.0, 20.0, 12.0]"),
    ("redline min above max", "redline = { max = 45.0 }", "redline = { min = 50.0, max = 45.0 }",
     "channels.P-OX-TANK.redline.max", "redline = { min = 50.0"),
    ("unknown thermocouple type", 'thermocouple_type = "T"', 'thermocouple_type = "Q"',
     "channels.TC-OX.thermocouple_type", 'thermocouple_type = "Q"'),
    ("unknown section", "[sequence]", "[sequense]", "sequense", "[sequense]"),
    ("bridge calibration on a voltage input", '{ type = "linear", slope = 5.0, offset = 25.0 }',
     '{ type = "bridge", capacity = 10.0, rated_output_mV_V = 2.0 }', "channels.PC-DYN.calibration",
     'type = "bridge", capacity = 10.0'),
    ("expansion ratio below 1", "expansion_ratio = 4.0", "expansion_ratio = 0.5", "article.expansion_ratio",
     "expansion_ratio = 0.5"),
    ("string where a number belongs", "throat_diameter_mm = 48.0", 'throat_diameter_mm = "48"',
     "article.throat_diameter_mm", 'throat_diameter_mm = "48"'),
    ("unknown kind", 'kind = "current"\nrange = [0.0, 20.0]\ncalibration = { type = "polynomial", coefficients = [-0.75',
     'kind = "curent"\nrange = [0.0, 20.0]\ncalibration = { type = "polynomial", coefficients = [-0.75',
     "channels.FM-OX.kind", 'kind = "curent"'),
    ("bridge without excitation", "excitation_V = 10.0\n", "", "channels.LC-THRUST", "[channels.LC-THRUST]"),
    ("uncertainty with a typo", "uncertainty = { fs_percent = 0.1 }", "uncertainty = { fs_pct = 0.1 }",
     "channels.PC.uncertainty.fs_pct", "uncertainty = { fs_pct = 0.1 }"),
]


@pytest.mark.parametrize("desc,old,new,key,marker", BAD, ids=[b[0] for b in BAD])
def test_bad_rig_names_file_line_and_key(tmp_path, rigs_dir, desc, old, new, key, marker):
    text = (rigs_dir / f"{DEFAULT}.toml").read_text()
    assert text.count(old) >= 1, f"test setup: {old!r} not found"
    bad = text.replace(old, new, 1)
    path = tmp_path / "bad-rig.toml"
    path.write_text(bad)
    with pytest.raises(RigError) as info:
        load_rig(path)
    msg = str(info.value)
    line = _line_of(bad, marker)
    assert msg.startswith(f"{path}:{line}: {key}: "), msg
    assert info.value.line == line and info.value.key == key


def test_toml_syntax_error_names_line(tmp_path, rigs_dir):
    text = (rigs_dir / f"{DEFAULT}.toml").read_text().replace("nominal_of = 1.4", "nominal_of = = 1.4")
    p = tmp_path / "syntax.toml"
    p.write_text(text)
    with pytest.raises(RigError) as info:
        load_rig(p)
    assert info.value.line == _line_of(text, "nominal_of = = 1.4")
    assert re.match(rf"{re.escape(str(p))}:\d+: not valid TOML", str(info.value))


def test_missing_rig_file_lists_bundled():
    with pytest.raises(RigError, match="lox-ethanol-5kN"):
        load_rig("no-such-rig")


def test_unknown_key_message_lists_allowed(rigs_dir):
    text = (rigs_dir / f"{DEFAULT}.toml").read_text().replace('[rig]\n', '[rig]\ncolour = "red"\n')
    with pytest.raises(RigError, match=r"rig\.colour: unknown key \(expected one of: description, name, stability_alarm_percent\)"):
        parse_rig(text, "x.toml")
