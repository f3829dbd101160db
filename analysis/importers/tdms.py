"""NI TDMS files: waveform channels (``wf_increment``) grouped by sample clock."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from hotfire.analysis.importers.base import ChannelSpec, ImportFailed, Mapping
from hotfire.analysis.importers.header import clean_name, role_from_name, to_si_affine
from hotfire.analysis.importers.writer import Stream, write_run


def import_tdms(path, out, mapping: Mapping | None = None, test_id: str | None = None) -> Path:
    """Import an NI TDMS file: waveform channels (``wf_increment``) grouped by sample clock.

    Channels are named ``group/channel`` in the mapping; their units default
    to the ``unit_string`` property NI writes, converted to SI.
    """
    from nptdms import TdmsFile

    m = mapping or Mapping()
    p = Path(path)
    try:
        tf = TdmsFile.read(str(p))
    except Exception as exc:  # npTDMS raises assorted errors on bad files
        raise ImportFailed(f"{p}: not a readable TDMS file ({exc})") from None
    clocks: dict[tuple, list] = {}
    skipped = []
    for g in tf.groups():
        for ch in g.channels():
            name = ch.name.replace("\x00", "")  # NUL-padded names and units occur; HDF5 strings refuse NUL
            key = f"{g.name}/{name}".replace("\x00", "")
            props = ch.properties
            try:  # numbers only: a text or time channel, or a clock that is not a number, is skipped
                inc = float(props["wf_increment"])
                start = float(props.get("wf_start_offset", 0.0))
                data = np.asarray(ch[:], dtype=float)
            except (KeyError, TypeError, ValueError, OverflowError):
                inc = None
            if inc is None or not np.isfinite(inc) or inc <= 0 or not np.isfinite(start) or data.ndim != 1:
                skipped.append(key)
                continue
            given = m.channels.get(key) or m.channels.get(name)
            if given is None and m.only_mapped:
                continue
            sp = copy.copy(given) if given is not None else ChannelSpec(key)
            sp.source, sp.name = key, sp.name or clean_name(name)
            sp.file_units = sp.units or str(props.get("unit_string", "")).replace("\x00", "")
            si, scale, offset, _ = to_si_affine(sp.file_units)
            sp.units, sp.scale, sp.offset = si, sp.scale * scale, sp.offset * scale + offset
            if not sp.role:
                sp.role, sp.why = role_from_name(name, si)
                if sp.role in ("time", "chamber_pressure?"):
                    sp.role = "other"
            clocks.setdefault((inc, start, len(data)), []).append((sp, data))
    if not clocks:
        raise ImportFailed(f"{p}: no waveform channels (with wf_increment) to import"
                           + (f"; skipped {', '.join(skipped)}" if skipped else ""))
    streams = []
    for i, ((inc, start, n), chans) in enumerate(sorted(clocks.items(), key=lambda kv: kv[0][0])):
        streams.append(Stream(f"s{i}", 1.0 / inc, start, [c[0] for c in chans],
                              [(0, np.column_stack([c[1] for c in chans]))]))
    missing = [sp.name for st in streams for sp in st.specs if not sp.uncertainty]
    if missing:
        m.metadata.setdefault("import_note", f"no uncertainty given for {', '.join(missing)}: their results carry "
                              "only the scatter of the data (type A)")
    src = {"format": "tdms", "file": str(p), "skipped_channels": skipped, "resampled": False,
           "file_properties": {k: str(v) for k, v in tf.properties.items()}}
    return write_run(out, streams, m, src, test_id or p.stem)
