"""The run-file reader for scripts: by name or role, units, slices, events,
re-calibration."""
import json

import h5py
import numpy as np
import pytest

from hotfire.core.runfile.reader import open_run


def test_channels_by_name_or_role_in_any_units(firings):
    with open_run(firings.path("lox-rp1-100kN", "nominal")) as run:
        pc = run.get("chamber_pressure")
        assert pc.name == "PC_MAIN" and pc.units == "psi"
        assert run.get("PC_MAIN", units="bar").values.mean() == pytest.approx(pc.values.mean() * 0.0689476, rel=1e-6)
        assert [s.name for s in run.role("thrust")] == ["THRUST_A", "THRUST_B"]
        with pytest.raises(ValueError, match="cannot convert"):
            pc.to("kg/s")
        with pytest.raises(KeyError, match="no channel or role"):
            run.get("nope")


def test_time_slices_read_only_that_part(firings, monkeypatch):
    path = firings.path("lox-ethanol-5kN", "nominal")
    with open_run(path) as run:
        whole = run.channel("PC")
        reads = []
        orig = h5py.Dataset.__getitem__

        def spy(self, key):
            out = orig(self, key)
            if self.name.endswith("/raw"):
                reads.append(out.size)
            return out
        monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
        part = run.channel("PC", t=(1.0, 1.5))
        monkeypatch.undo()
        assert part.t[0] == pytest.approx(1.0) and part.t[-1] == pytest.approx(1.5)
        assert len(part) == 2501 and sum(reads) == 2501  # only those rows of the column
        assert np.array_equal(part.values, whole.slice(1.0, 1.5).values)
        assert part.mean() == pytest.approx(20.0, rel=1e-3)


def test_events_and_metadata(firings, rigs_dir):
    """The reader's times against the file read with plain h5py and the rig file parsed with
    tomllib: T0 is sample 8000 of the 5 kHz main stream (1.6 s of pre-trigger), cutoff 2.5 s
    later, and every stream's clock (51.2 kHz, 100 Hz) puts T0 at t = 0."""
    import tomllib

    path = firings.path("lox-ethanol-5kN", "nominal")
    with h5py.File(path, "r") as f:
        ev = {e["kind"].decode(): e for e in f["events"][()]}
        rows = {name: int(g.attrs["committed"]) for name, g in f["streams"].items()}
        rates = {name: float(g.attrs["rate_hz"]) for name, g in f["streams"].items()}
    assert (int(ev["T0"]["sample"]), int(ev["cutoff"]["sample"])) == (8000, 20500)
    assert rates == {"main": 5000.0, "dynamic": 51200.0, "slow": 100.0}
    article = tomllib.loads((rigs_dir / "lox-ethanol-5kN.toml").read_text())["article"]
    with open_run(path) as run:
        assert run.has_t0 and run.event_times("T0") == [0.0]
        assert run.cutoff == pytest.approx((20500 - 8000) / 5000.0, abs=1e-12)
        a, b = run.time_span()
        assert a == pytest.approx(-8000 / 5000.0, abs=1e-12)
        # the last sample of the longest stream: every stream holds 5.1 s here
        assert b == pytest.approx(max((rows[s] - 1) / rates[s] for s in rows) - 1.6, abs=1e-9)
        for name, rate in rates.items():  # T0 on each stream's own clock
            sig = run.channel(json.loads(run.f["streams"][name].attrs["channels"])[0])
            k = round(1.6 * rate)
            assert sig.t[k] == pytest.approx(0.0, abs=1e-12) and sig.t[1] - sig.t[0] == pytest.approx(1 / rate)
        assert run.article.throat_diameter_mm == article["throat_diameter_mm"] == 48.0
        assert run.article.expansion_ratio == article["expansion_ratio"]
        assert run.imported is None


def test_recalibration_applies_another_calibration_to_the_raw_data(firings):
    with open_run(firings.path("lox-ethanol-5kN", "nominal")) as run:
        stored = run.channel("PC", t=(1, 2))
        recal = run.channel("PC", t=(1, 2), calibration={"type": "linear", "slope": 5.1, "offset": -0.2})
        assert np.allclose(recal.values, stored.values * 5.1 / 5.0 - 0.2)


def test_preload_gives_the_same_samples(firings):
    with open_run(firings.path("lox-ethanol-5kN", "nominal")) as run:
        direct = run.channel("FM-OX", t=(0.3, 0.9))
        run.preload()
        cached = run.channel("FM-OX", t=(0.3, 0.9))
        run.release()
        assert np.array_equal(direct.t, cached.t) and np.array_equal(direct.values, cached.values)


def test_segment_positions_agree_with_an_index_array():
    import numpy as np

    from hotfire.core.runfile.reader import clip_segments, indices, positions, samples_at

    segs = np.array([[100, 0, 5], [110, 5, 3], [200, 8, 4]])  # gaps 105-109 and 113-199
    idx = indices(segs)
    assert idx.tolist() == [100, 101, 102, 103, 104, 110, 111, 112, 200, 201, 202, 203]
    probe = np.arange(90, 210)
    np.testing.assert_array_equal(positions(segs, probe), np.searchsorted(idx, probe))
    np.testing.assert_array_equal(samples_at(segs, np.arange(len(idx))), idx)
    for i in range(len(idx) + 1):
        for j in range(i, len(idx) + 1):
            np.testing.assert_array_equal(indices(clip_segments(segs, i, j)), idx[i:j])


@pytest.fixture
def gapped(tmp_path):
    """A run whose ``main`` stream (5 kHz) has samples 0-999 and 1500-9999: a 0.1 s gap."""
    from hotfire.core.rig import load_rig
    from hotfire.core.runfile import RunFileWriter

    rig = load_rig("lox-ethanol-5kN")
    nch = len(rig.streams["main"].channels)
    counts = (np.arange(10000, dtype=np.int32)[:, None] * 7 + np.arange(nch)) % 20000
    w = RunFileWriter(tmp_path / "gap.h5", rig, {"test_id": "gap"})
    w.append("main", 0, counts[:1000])
    w.append("main", 1500, counts[1500:])
    w.close()
    return tmp_path / "gap.h5"


def test_a_time_span_ending_between_samples_stops_before_the_next(gapped):
    with open_run(gapped) as run:
        dt = 1 / 5000
        sig = run.channel("PC", t=(0.5, 0.6 + 0.4 * dt))  # 0.6 is sample 3000; 3001 is after t_b
        assert sig.t[0] == pytest.approx(0.5) and sig.t[-1] == pytest.approx(0.6)
        assert run.sample_range("main", (0.5 + 0.6 * dt, 0.6 - 0.6 * dt)) == (2501, 3000)


def test_a_view_reads_nothing_until_asked_then_only_the_span(gapped, monkeypatch):
    reads = []
    orig = h5py.Dataset.__getitem__

    def spy(self, key):
        out = orig(self, key)
        if self.name.endswith("/raw"):
            reads.append(out.size)
        return out
    with open_run(gapped) as run:
        monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
        pc = run.view("chamber_pressure")
        assert (pc.name, pc.units, pc.rate_hz, pc.stream) == ("PC", "bar", 5000.0, "main")
        assert pc.span() == pytest.approx((0.0, 9999 / 5000))
        assert pc.gaps == [(pytest.approx(0.2), pytest.approx(0.1))]  # samples 1000-1499
        assert reads == []
        part = pc.read((1.0, 1.1), units="psi")
        assert sum(reads) == 501 and part.units == "psi"


def test_chunks_hold_every_sample_once_and_are_read_one_by_one(gapped, monkeypatch):
    with open_run(gapped) as run:
        whole = run.channel("PC")
        reads = []
        orig = h5py.Dataset.__getitem__

        def spy(self, key):
            out = orig(self, key)
            if self.name.endswith("/raw"):
                reads.append(out.size)
            return out
        monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
        pieces = []
        for sig in run.view("PC").chunks(seconds=0.3):  # 1500 samples a piece; the gap inside the first two
            pieces.append(sig)
            assert sum(reads) == sum(len(p) for p in pieces)  # each piece read when reached
        monkeypatch.undo()
        idx = [np.rint(p.t * 5000).astype(int) for p in pieces]
        assert [(int(i[0]), int(i[-1])) for i in idx] == [
            (0, 999), (1500, 2999), (3000, 4499), (4500, 5999), (6000, 7499), (7500, 8999), (9000, 9999)]
        assert np.array_equal(np.concatenate([p.values for p in pieces]), whole.values)
        assert len(whole) == 9500
        # a piece wholly in the gap (samples 1000-1499) is left out, not empty
        spans = [(int(np.rint(p.t[0] * 5000)), int(np.rint(p.t[-1] * 5000))) for p in run.view("PC").chunks(0.1)]
        assert spans[:3] == [(0, 499), (500, 999), (1500, 1999)] and len(spans) == 19  # 20 pieces of 500, one in the gap


def test_a_view_says_its_channel_health(firings):
    with open_run(firings.path("lox-ethanol-5kN", "failed-sensor")) as run:
        assert run.view("fuel_injector_pressure").health.status == "failed"
        assert run.view("chamber_pressure").health.status == "ok"


def test_an_event_is_dated_on_its_streams_clock_with_the_start_offset(tmp_path):
    """A stream whose sample 0 is at 2.5 s (an import's first stamp): its events are too."""
    from hotfire.core.events import Event
    from hotfire.core.rig import load_rig
    from hotfire.core.runfile import RunFileWriter

    rig = load_rig("lox-ethanol-5kN")
    nch = len(rig.streams["main"].channels)
    w = RunFileWriter(tmp_path / "off.h5", rig, {"test_id": "off"})
    w.set_start_offset("main", 2.5)
    w.append("main", 0, np.zeros((10000, nch), np.int32))
    w.add_events([Event("T0", "main", 5000, "T0"), Event("cutoff", "main", 7500, "cutoff")])
    w.close()
    with h5py.File(tmp_path / "off.h5", "r") as f:  # plain h5py: 2.5 s + sample / 5 kHz
        assert sorted(f["events"]["time_s"]) == [3.5, 4.0]
    run = open_run(tmp_path / "off.h5")
    assert run.cutoff == pytest.approx(0.5)
    t = run.get(rig.streams["main"].channels[0]).t  # the samples' own times agree with the events'
    assert t[5000] == pytest.approx(0.0) and t[0] == pytest.approx(-1.0)
