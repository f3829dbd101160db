"""The one exception family the command line prints without a traceback."""


class HotfireError(Exception):
    """A user-facing error: it says what went wrong and where."""
