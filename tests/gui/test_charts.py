"""Chart layout from the rig: groups by role, limit lines, event markers."""
from __future__ import annotations

from hotfire.daq.publisher import channel_meta
from hotfire.core.rig import load_rig
from hotfire.gui.eventlog import ViewEvent
from hotfire.gui.meta import RunMeta


def meta_of(rig_name):
    rig = load_rig(rig_name)
    return RunMeta.from_publisher({
        "test_id": "t", "rig": rig.name, "pretrigger_s": 2.0, "channels": channel_meta(rig),
        "streams": {n: {"rate_hz": s.rate_hz, "channels": list(s.channels)} for n, s in rig.streams.items()}})


def test_charts_follow_the_roles_of_either_rig(app):
    from hotfire.gui.charts import Charts, group_channels
    from hotfire.gui.theme import DARK

    for rig_name in ("lox-ethanol-5kN", "lox-rp1-100kN"):
        meta = meta_of(rig_name)
        groups = group_channels(meta)
        assert sorted(c.name for _, chans in groups for c in chans) == sorted(c.name for c in meta.channels)
        assert groups[0][0] == "Thrust"
        charts = Charts(meta, DARK)
        assert len(charts.plots) == len(groups)
        # every limit of the rig is a line on its channel's chart
        for ch in meta.channels:
            for lim in (ch.redline, ch.warning):
                for v in (lim.to_dict() if lim else {}).values():
                    assert float(v) in charts.by_channel[ch.name].limits
        charts.close()


def test_markers_go_where_they_belong(app):
    from hotfire.gui.charts import Charts
    from hotfire.gui.theme import DARK

    meta = meta_of("lox-ethanol-5kN")
    charts = Charts(meta, DARK)
    charts.add_markers([
        ViewEvent("T0", "main", 10000, 2.0),
        ViewEvent("gap", "dynamic", 200000, 3.9, "source lost 512 samples"),
        ViewEvent("redline", "main", 12000, 2.4, "PC 27.2 bar: above redline 27 bar", "PC"),
        ViewEvent("clear", "main", 13000, 2.6, "PC back within limits", "PC"),  # no marker
    ])
    n = len(charts.plots)
    assert charts.marker_count("T0") == n and charts.marker_count("gap") == n
    assert charts.marker_count("redline") == 1 and charts.marker_count("clear") == 0
    assert charts.by_channel["PC"].item in {item for _, ev, item in charts._markers if ev.kind == "redline"}
    charts.close()


def test_health_panel_paints_a_stream_amber_only_when_it_is_behind(app):
    from hotfire.gui.panels import HealthPanel
    from hotfire.gui.theme import DARK

    p = HealthPanel(DARK)
    rows = [{"name": "slow", "nominal_hz": 100.0, "rate_hz": 79.0, "behind_s": 0.2},
            {"name": "main", "nominal_hz": 10_000.0, "rate_hz": 9_903.0, "behind_s": 1.23}]
    p.set_health({"mode": "live", "producing": True, "streams": rows})
    html = p.text()
    slow, main = html.split("<td>slow</td>")[1].split("</tr>")[0], html.split("<td>main</td>")[1].split("</tr>")[0]
    assert "100 Hz" in slow and DARK.warning not in slow and "behind" not in slow  # a block late: normal
    assert "10,000 Hz · 1.2 s behind" in main and DARK.warning in main
