"""``hotfire view``: live view of a running acquisition, or replay of a run file."""
from __future__ import annotations

import sys

from hotfire.daq.publisher import DEFAULT_ADDRESS


def add_arguments(p):
    p.add_argument("run", nargs="?", help="run file to replay (default: attach to a live acquisition)")
    p.add_argument("--connect", metavar="ADDRESS", default=None,
                   help=f"live stream of `hotfire acquire` (default: {DEFAULT_ADDRESS})")
    p.add_argument("--keys", metavar="DIR", default=None,
                   help="CurveZMQ key folder of this viewer (server/server.key, clients/NAME.key_secret): "
                        "for a publisher on the network (`hotfire acquire --keys`)")
    p.add_argument("--key", metavar="NAME", default=None, help="with --keys: this viewer's key name")
    p.add_argument("--decimated", action="store_true",
                   help="live: take the publisher's min/max stream (a slow link: at most 200 values/s per channel)")
    p.add_argument("--window", type=float, default=10.0, metavar="S",
                   help="time window in seconds, 5 to 300 (default: 10)")
    p.add_argument("--large", action="store_true", help="large fonts (control-room screens)")
    p.add_argument("--light", action="store_true", help="light theme (default: dark)")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed (default: 1)")
    p.add_argument("--play", action="store_true", help="replay: start playing from the beginning")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second asked of the display (default: 30)")
    p.add_argument("--quit-after", type=float, metavar="S", help="close after S seconds (demos, scripts)")
    p.add_argument("--screenshot", metavar="PNG", help="with --quit-after: save the window to PNG before closing")


def run(args) -> int:
    # Qt is imported here, not at module level: `hotfire --help` stays fast.
    from hotfire.core.errors import HotfireError

    if args.run and args.connect:
        raise HotfireError("give either a run file to replay or --connect ADDRESS, not both")
    if args.run and "://" in args.run and not args.connect:
        args.connect, args.run = args.run, None  # hotfire view tcp://HOST:PORT
    if args.key and not args.keys:
        from hotfire.core.keys import default_dir
        args.keys = str(default_dir())
    if not 5 <= args.window <= 300:
        raise HotfireError(f"--window must be between 5 and 300 seconds, got {args.window:g}")

    import pyqtgraph as pg
    from PySide6 import QtCore

    from hotfire.gui.theme import DARK, LIGHT, setup
    from hotfire.gui.window import MainWindow

    # Open the feed first: a bad run file is reported before any window appears.
    if args.run:
        from hotfire.core.runfile.guard import check_run_file
        from hotfire.gui.replay import SPEEDS, ReplayFeed

        check_run_file(args.run)  # a file that would crash HDF5 (and the window) is a clear error
        feed = ReplayFeed(args.run)
        feed.speed = min(SPEEDS, key=lambda s: abs(s - args.speed))
        if args.play:
            feed.play()
    else:
        from hotfire.gui.live import LiveFeed

        feed = LiveFeed(args.connect or DEFAULT_ADDRESS, keys=args.keys, key=args.key, decimated=args.decimated)
    app = pg.mkQApp("hotfire view")
    theme = LIGHT if args.light else DARK
    setup(app, theme, large=args.large)
    win = MainWindow(feed, theme, window_s=args.window, large=args.large, fps=args.fps)
    win.show()
    if getattr(feed, "key", None):
        def silent():  # a refused key gets no data at all: say so where the user started the viewer
            if feed.meta is None:
                print(f"hotfire view: {feed.silence()}", file=sys.stderr)
        QtCore.QTimer.singleShot(5000, silent)
    if args.quit_after:
        def finish():
            if args.screenshot:
                win.save_png(args.screenshot)
            win.close()
        QtCore.QTimer.singleShot(int(args.quit_after * 1000), finish)
    try:
        app.exec()
    finally:
        feed.close()
    return 0
