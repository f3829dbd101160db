"""Child of test_cli_damage: every command that opens a run file, in this one process, on one damaged file.

argv: run file, work dir. Prints one JSON line: ``{command: [exit status, what it said]}``;
an exception out of a command is recorded as ``"traceback"``. If HDF5 takes this process down
(a signal) or hangs it, the parent sees that instead of the line.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from hotfire.cli import main  # noqa: E402

run, work = sys.argv[1], sys.argv[2]
COMMANDS = {
    "info": ["info", run],
    "analyze": ["analyze", run, "--json"],
    "export": ["export", run, "--channels", "thrust", "-o", os.path.join(work, "x.csv")],
    "compare": ["compare", run, "--json"],
    "verify": ["verify", run],
    "view": ["view", run, "--quit-after", "0.2"],
}
out = {}
for name, argv in COMMANDS.items():
    if name not in sys.argv[3:] and sys.argv[3:]:
        continue
    buf, said = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(buf), contextlib.redirect_stdout(said):
            rc = main(argv)
        # an error is on stderr; verify's finding of damage (also exit 1) is its report on stdout
        out[name] = [rc, (buf.getvalue() or said.getvalue())[-2000:]]
    except BaseException:  # noqa: BLE001
        out[name] = ["traceback", traceback.format_exc()[-3000:]]
print(json.dumps(out))
