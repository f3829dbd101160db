"""hotfire: acquisition, durable recording, live view and analysis for rocket-engine test stands.

This root package holds the command line (:mod:`hotfire.cli` and one
``cmd_*`` module per subcommand), the top layer; the stages are
:mod:`hotfire.core`, :mod:`hotfire.daq`, :mod:`hotfire.analysis`,
:mod:`hotfire.gui` and :mod:`hotfire.ext`.
"""
from hotfire.core.version import __version__

__all__ = ["__version__"]
