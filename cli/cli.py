"""The ``hotfire`` command: one entry point, one module per subcommand.

Each subcommand lives in the package that owns it and exposes
``add_arguments(parser)`` and ``run(args) -> int``; this module only
dispatches, so adding a command never touches another's code. Command
modules are imported to build the parser, so they import heavy libraries
(Qt, CEA) inside ``run``, keeping ``hotfire --help`` fast.
"""
from __future__ import annotations

import argparse
import difflib
import importlib
import sys

from hotfire.core.version import __version__
from hotfire.core.errors import HotfireError

#: subcommand -> (module, one-line help)
COMMANDS = {
    "acquire": ("hotfire.cmd_acquire", "acquire a firing from a rig (hardware, simulated driver, simulator, or a replayed run)"),
    "info": ("hotfire.cmd_info", "print a run file's metadata, streams, channels and events"),
    "analyze": ("hotfire.cmd_analyze", "thrust and propellant-efficiency results of a run"),
    "demo": ("hotfire.cmd_demo", "simulate, record and analyse a firing on the default rig"),
    "recover": ("hotfire.cmd_recover", "rebuild a run file from the journal a crash left"),
    "view": ("hotfire.cmd_view", "live view of a running acquisition, or replay of a run file"),
    "compare": ("hotfire.cmd_compare", "compare runs across rigs by role"),
    "catalog": ("hotfire.cmd_catalog", "index run files and query them"),
    "import": ("hotfire.cmd_import", "import a foreign recording (CSV, TDMS, RASP .eng) as a run file"),
    "export": ("hotfire.cmd_export", "export channels of a run file to CSV, TDMS, MATLAB .mat or RASP .eng"),
    "verify": ("hotfire.cmd_verify", "check a run file against its checksums and its journal (--repair)"),
    "keys": ("hotfire.cmd_keys", "CurveZMQ keys: let viewers on other machines watch the live stream"),
}


DESCRIPTION = ("Acquisition, durable recording, live view and analysis for rocket-engine test stands.\n"
               "Start with `hotfire demo`; the README and docs/ say more.")


EPILOG = """`hotfire COMMAND --help` gives a command's options.

exit status:
  0    done
  1    an error in the input or the environment (a file, a rig, the driver, the disk): the message names it
  2    the command line itself (an unknown option, a missing argument)
  3    analyze: nothing could be computed
  4    analyze --strict: some result is degraded
  130  interrupted (Ctrl-C)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotfire", description=DESCRIPTION,
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"hotfire {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.commands = {}
    for name, (modname, help_) in COMMANDS.items():
        # a missing module is a packaging error: let it raise, never hide the command
        module = importlib.import_module(modname)
        p = sub.add_parser(name, help=help_, description=help_)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
        parser.commands[name] = p
    return parser


def unknown_arguments(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """The message for arguments no option takes: each one named, with the closest option of the
    command where one is close (``--jsn``: did you mean ``--json``?)."""
    options = [o for a in parser._actions for o in a.option_strings if a.help != argparse.SUPPRESS]
    parts = []
    for x in extras:
        flag = x.split("=", 1)[0]
        close = difflib.get_close_matches(flag, options, 1, 0.6) if flag.startswith("-") else []
        parts.append(f"{x} (did you mean {close[0]}?)" if close else x)
    return f"unrecognized arguments: {' '.join(parts)}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    first = argv[0] if argv and not argv[0].startswith("-") else None
    if first is not None and first not in COMMANDS:
        close = difflib.get_close_matches(first, list(COMMANDS), 1, 0.6)
        parser.error(f"unknown command {first!r}" + (f" (did you mean {close[0]}?)" if close else "")
                     + f"; the commands: {', '.join(COMMANDS)}")
    args, extras = parser.parse_known_args(argv)
    if extras:
        (parser.commands.get(getattr(args, "command", None)) or parser).error(
            unknown_arguments(parser.commands.get(getattr(args, "command", None)) or parser, extras))
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except HotfireError as exc:
        print(f"hotfire {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"hotfire {args.command}: interrupted", file=sys.stderr)
        return 130
