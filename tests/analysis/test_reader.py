"""The run-file reader for scripts: by name or role, units, slices, events,
re-calibration."""
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


def test_events_and_metadata(firings):
    with open_run(firings.path("lox-ethanol-5kN", "nominal")) as run:
        assert run.has_t0 and run.event_times("T0") == [0.0]
        assert run.cutoff == pytest.approx(2.5)
        assert run.scenario["name"] == "nominal" and run.truth["of"] == pytest.approx(1.4)
        assert run.article.throat_diameter_mm == 48.0 and run.imported is None
        a, b = run.time_span()
        assert a == pytest.approx(-1.6) and b == pytest.approx(3.5, abs=1e-3)


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
