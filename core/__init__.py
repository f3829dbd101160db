"""The bottom layer: what every stage of hotfire shares.

The run-file format (:mod:`hotfire.core.runfile`: schema, writer, reader),
the rig and channel description (:mod:`~hotfire.core.rig`), units and
scaling, events, errors, the version, the NASA CEA theory wrapper and the
sensor-health checks. It imports nothing from daq, analysis, gui or the
command line: imports go one way, ext <- core <- {daq, analysis} <- gui <- cli.
"""
