"""The same firing through each source: the plain simulator, and the real
nidaqmx Task / stream-reader code on the simulated NI-DAQmx driver."""
import numpy as np
import pytest

from hotfire.analysis.textreport import ROWS
from hotfire.analysis.performance import analyze
from hotfire.core.runfile.reader import open_run
from hotfire.cli import main
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig, parse_rig
from hotfire.core.scaling import ADC_BITS, Calibration
from hotfire.daq.sources import open_source
from hotfire.daq.sources.nidaq import NidaqSource
from hotfire.daq.sources.simdriver import SimulatedDriver
from hotfire.core.errors import HotfireError

SOURCES = ("sim", "nidaq-sim")
SPEED = 5.0  # simulated seconds per wall second: an 8 s buffer rides out 1.6 s stalls


@pytest.fixture(scope="module", params=["lox-ethanol-5kN", "lox-rp1-100kN"])
def rig(request):
    return load_rig(request.param)


def make_source(kind, rig, **options):
    """A source of ``kind`` for ``rig``, chosen the one way the program chooses."""
    if kind == "sim":
        return open_source(rig, "sim", **options)
    # A generous buffer: the test machine is shared, and a hiccup must not overflow.
    return open_source(rig, "nidaq-sim", driver=SimulatedDriver(rig, speed=SPEED), buffer_s=8.0, **options)


def expected_raw(source, stream, first, n):
    """What the source's hardware delivered for samples [first, first+n), in the stream dtype."""
    if isinstance(source, NidaqSource):
        drv = source.interpreter
        raw = source.streams[stream].dtype.kind in "iu"
        cols = [drv.expected(ch, first, n, raw=raw) for ch in source.streams[stream].channels]
        return np.column_stack(cols).astype(source.streams[stream].dtype)
    return source.gen.raw(stream, first, n)


def record(rig, source, tmp_path, test_id="run"):
    summary = Acquisition(rig, source, [Recorder(tmp_path)], test_id=test_id).run()
    assert summary.error is None, summary.error
    return summary


@pytest.mark.parametrize("kind", SOURCES)
def test_each_source_records_the_firing_and_its_analysis_matches_truth(rig, kind, tmp_path):
    source = make_source(kind, rig)
    summary = record(rig, source, tmp_path)
    duration = sum((rig.sequence.pretrigger_s, rig.sequence.burn_s, rig.sequence.posttrigger_s))
    with open_run(summary.path) as run:
        for name, st in rig.streams.items():
            info = run.streams[name]
            assert info.rows == int(round(duration * st.rate_hz)), name
            assert info.gaps == [], name
            raw = run.f["streams"][name]["raw"][()]
            assert np.array_equal(raw, expected_raw(source, name, 0, len(raw))), name
        kinds = [e["kind"] for e in run.events]
        assert kinds.count("T0") == 1 and kinds.count("cutoff") == 1
        assert "gap" not in kinds and "driver_error" not in kinds
        truth = run.truth
        perf = analyze(run)
        checked = [(attr, label, key) for attr, label, _unit, _fmt, key in ROWS if key]
        assert [key for _a, _l, key in checked if key not in truth] == []  # none skipped unseen
        for attr, label, key in checked:
            assert getattr(perf, attr) == pytest.approx(truth[key], rel=0.01), label
        assert run.metadata["source"] == source.kind


def test_integer_counts_are_stored_with_the_devices_own_scaling(tmp_path):
    """The run file keeps the device's counts -> signal scaling, so engineering
    units come out right although the counts differ from the simulator's."""
    rig = load_rig("lox-ethanol-5kN")
    runs = {}
    for kind in SOURCES:
        runs[kind] = record(rig, make_source(kind, rig, duration_s=1.0), tmp_path / kind, kind).path
    with open_run(runs["sim"]) as a, open_run(runs["nidaq-sim"]) as b:
        for ch in rig.stream_channels("main"):
            ia, ib = a.channel_info(ch.name), b.channel_info(ch.name)
            assert ib.adc != ia.adc, ch.name  # the device's coefficients, not the rig's default
            assert len(ib.adc["device_coefficients"]) == 4
            ra, rb = a.raw(ch.name)[0], b.raw(ch.name)[0]
            top = 2 ** (ADC_BITS[rig.streams["main"].dtype] - 1) - 1
            inside = (np.abs(ra.astype(np.int64)) < top) & (np.abs(rb.astype(np.int64)) < top)  # not clipped
            assert inside.sum() > 1000, ch.name
            va, vb = a.channel(ch.name).values[inside], b.channel(ch.name).values[inside]
            span = np.ptp(Calibration(ch.calibration).to_eu(np.array(ch.range)))
            # Both quantize the same sensor signal: equal within a few 16-bit steps of the span
            # (the coarsest converter on the stream).
            assert np.max(np.abs(va - vb)) < 4 * span / 65535, ch.name


def test_cli_acquires_through_the_simulated_driver(tmp_path, capsys):
    code = main(["acquire", "lox-ethanol-5kN", "--source", "nidaq-sim", "--fast", "--duration", "1", "--quiet",
                 "--out", str(tmp_path), "--test-id", "cli", "--no-publish"])
    assert code == 0
    assert "recorded dynamic 51,200 (1.00 s), main 5,000 (1.00 s), slow 100 (1.00 s); 0 samples lost" in capsys.readouterr().out
    with open_run(tmp_path / "cli.h5") as run:
        assert run.metadata["source"] == "nidaqmx (simulated NI-DAQmx driver)"
        assert run.streams["main"].rows == 5000


def test_without_the_ni_driver_the_error_suggests_the_simulators(tmp_path, capsys):
    with pytest.raises(HotfireError, match=r"no NI-DAQmx driver.*--source sim.*--source nidaq-sim"):
        open_source(load_rig("lox-ethanol-5kN"), "nidaq")
    assert main(["acquire", "lox-ethanol-5kN", "--out", str(tmp_path), "--no-publish"]) == 1
    err = capsys.readouterr().err
    assert "--source nidaq-sim" in err and "Traceback" not in err


def test_streams_wait_for_an_external_start_trigger_and_start_together(tmp_path):
    rig = load_rig("lox-ethanol-5kN")
    drv = SimulatedDriver(rig, speed=SPEED, trigger_delay_s=2.0)
    source = open_source(rig, "nidaq-sim", driver=drv, trigger="/cDAQ1/PFI0", duration_s=1.0, buffer_s=8.0,
                         read_timeout_s=0.5)
    summary = record(rig, source, tmp_path)
    # Waiting for the trigger is not a fault; after it, sample k of every stream is the same instant.
    assert [e.kind for e in summary.events if e.kind == "driver_error"] == []
    assert {c.offset for c in drv.channels.values()} == {0}
    with open_run(summary.path) as run:
        for name in rig.streams:
            raw = run.f["streams"][name]["raw"][()]
            assert np.array_equal(raw, expected_raw(source, name, 0, len(raw))), name


def test_a_rate_the_device_cannot_make_is_refused_naming_the_stream():
    rig = load_rig("lox-ethanol-5kN")
    text = rig.text.replace("rate_hz = 5000", "rate_hz = 3000")
    bad = parse_rig(text, "bad.toml")
    with pytest.raises(HotfireError, match=r"stream 'main'.*2999\.7656.*not the rig's 3000 Hz"):
        open_source(bad, "nidaq-sim", driver=SimulatedDriver(bad))


def test_a_thermocouple_in_an_int16_stream_is_refused_naming_the_channel():
    rig = load_rig("lox-ethanol-5kN")
    text = rig.text.replace('rate_hz = 100\ndtype = "float64"', 'rate_hz = 100\ndtype = "int16"')
    bad = parse_rig(text, "bad.toml")
    with pytest.raises(HotfireError, match=r"stream 'slow'.*TC-WALL, TC-OX, TC-F, TC-AMB need a float stream"):
        open_source(bad, "nidaq-sim", driver=SimulatedDriver(bad))
