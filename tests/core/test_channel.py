"""The one channel description (core/channel.py): a field added there reaches
the rig parser, the run file, the reader, the live metadata and the viewer."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

from hotfire.core.channel import ROW_FIELDS, Channel, Limits
from hotfire.core.rig import load_rig
from hotfire.core.runfile.writer import RunFileWriter

RIGS = Path(__file__).resolve().parents[2] / "rigs"

# Run in a child: core/channel.py's text plus one field declaration, loaded as
# hotfire.core.channel before anything imports it; nothing else is changed.
ADD_A_FIELD = textwrap.dedent('''
    import importlib.util, json, sys
    from pathlib import Path
    import hotfire.core
    src = Path(hotfire.core.__file__).with_name("channel.py").read_text()
    marker = "    # New fields go here"
    assert marker in src
    src = src.replace(marker, '    sensor_model: str = text("", rig=True)\\n' + marker)
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader("hotfire.core.channel", loader=None))
    sys.modules["hotfire.core.channel"] = mod
    exec(compile(src, "channel.py + sensor_model", "exec"), mod.__dict__)

    import h5py, numpy as np
    from hotfire.core.rig import parse_rig
    from hotfire.core.runfile.reader import open_run
    from hotfire.core.runfile.writer import RunFileWriter
    from hotfire.daq.publisher import channel_meta
    from hotfire.gui.meta import RunMeta

    rig_path, out, old = sys.argv[1:4]
    text = Path(rig_path).read_text().replace("[channels.PC]\\n", '[channels.PC]\\nsensor_model = "Kistler 601C"\\n')
    rig = parse_rig(text, rig_path)
    w = RunFileWriter(out, rig, {"test_id": "field"})
    for st in rig.streams.values():
        w.append(st.name, 0, np.zeros((10, len(st.channels)), st.dtype))
    w.close()
    with h5py.File(out, "r") as f:  # plain h5py, not the project's reader
        rows = f["channels"][()]
        file_models = {r["name"].decode(): r["sensor_model"].decode() for r in rows}
    with open_run(out) as run:
        read_back = run.channel_info("PC").sensor_model
    with open_run(old) as run:  # written before the field existed
        old_value = run.channel_info("PC").sensor_model
    msg = json.loads(json.dumps({"test_id": "field", "streams": {}, "channels": channel_meta(rig)}))
    meta = RunMeta.from_publisher(msg)
    print(json.dumps({"file": file_models, "reader": read_back, "old": old_value,
                      "viewer": {c.name: c.sensor_model for c in meta.channels}}))
''')


def test_a_field_added_in_one_place_round_trips_everywhere(tmp_path):
    rig = load_rig("lox-ethanol-5kN")
    old = tmp_path / "old.h5"
    RunFileWriter(old, rig, {"test_id": "old"}).close()
    out = subprocess.run([sys.executable, "-c", ADD_A_FIELD, str(RIGS / "lox-ethanol-5kN.toml"),
                          str(tmp_path / "new.h5"), str(old)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["file"]["PC"] == "Kistler 601C" and got["file"]["LC-THRUST"] == ""
    assert got["reader"] == "Kistler 601C"
    assert got["old"] == ""  # the default, for a file without the column
    assert got["viewer"]["PC"] == "Kistler 601C" and got["viewer"]["FM-OX"] == ""


def test_rows_of_a_format_1_1_file_read(tmp_path):
    # the channel table as hotfire 1.1 wrote it (no cjc column; None as "" or "null")
    cols = ("name", "stream", "column", "physical", "kind", "role", "units", "signal_units", "range", "adc",
            "calibration", "redline", "warning", "uncertainty", "serial", "cal_date", "terminal", "excitation_V",
            "thermocouple_type")
    dt = np.dtype([(c, "<i8" if c == "column" else h5py.string_dtype()) for c in cols])
    row = ("PC", "main", 3, "Dev1/ai3", "voltage", "chamber_pressure", "bar", "V", "[0.0, 10.0]",
           '{"coefficients": [0.0, 1.0]}', '{"type": "linear", "slope": 5.0}', '{"max": 30.0}', "{}",
           '{"fs_percent": 0.25}', "SN1", "2026-03-14", "diff", "null", "")
    with h5py.File(tmp_path / "t.h5", "w") as f:
        f["channels"] = np.array([row], dt)
    with h5py.File(tmp_path / "t.h5", "r") as f:
        ch = Channel.from_row(f["channels"][()][0])
    assert (ch.name, ch.column, ch.range, ch.terminal) == ("PC", 3, (0.0, 10.0), "diff")
    assert ch.redline == Limits(None, 30.0) and ch.warning is None
    assert ch.excitation_V is None and ch.thermocouple_type is None and ch.cjc is None
    assert ch.uncertainty == {"fs_percent": 0.25} and ch.cal_date == "2026-03-14"
    assert float(ch.scaling.to_eu(np.array([2.0]))[0]) == 10.0  # 2 V * 5 bar/V


def test_every_rig_channel_survives_the_row_and_the_json(tmp_path):
    for name in ("lox-ethanol-5kN", "lox-rp1-100kN"):
        rig = load_rig(name)
        w = RunFileWriter(tmp_path / f"{name}.h5", rig, {"test_id": name})
        w.close()
        with h5py.File(tmp_path / f"{name}.h5", "r") as f:
            assert f["channels"].dtype.names == ROW_FIELDS
            back = [Channel.from_row(r) for r in f["channels"][()]]
        assert back == list(rig.channels)
        assert [Channel.from_json(json.loads(json.dumps(c.to_json()))) for c in rig.channels] == list(rig.channels)


def test_a_missing_field_is_named():
    d = load_rig("lox-ethanol-5kN").channels[0].to_json()
    del d["stream"]
    with pytest.raises(ValueError, match="channel 'LC-THRUST': missing field 'stream'"):
        Channel.from_json(d)


def test_a_rig_written_from_its_channels_parses_back_to_them():
    from hotfire.core.channel import rig_table
    from hotfire.core.rig import parse_rig

    for name in ("lox-ethanol-5kN", "lox-rp1-100kN"):
        rig = load_rig(name)
        head = rig.text[:rig.text.index("\n[channels.")]
        text = head + "\n\n" + "\n".join(rig_table(ch) for ch in rig.channels)
        assert "[channels." in text and "adc" not in text.split("[channels.", 1)[1]
        again = parse_rig(text, f"<{name} rewritten>")
        assert again.channels == rig.channels  # the parser's own reading of the original file
