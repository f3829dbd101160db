import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RIGS = Path(__file__).resolve().parent.parent / "rigs"
#: public reference measurements, kept beside the repository (never in it): shared/reference
REFERENCE = Path(os.environ.get("HOTFIRE_REFERENCE") or Path(__file__).resolve().parents[2] / "shared" / "reference")


@pytest.fixture
def rigs_dir() -> Path:
    return RIGS


@pytest.fixture
def reference_dir() -> Path:
    """The public reference data folder ($HOTFIRE_REFERENCE or ../shared/reference); skips when absent."""
    if not REFERENCE.is_dir():
        pytest.skip(f"no reference data folder ({REFERENCE})")
    return REFERENCE


@pytest.fixture(autouse=True)
def _no_fixed_port(monkeypatch):
    """Fail any test that binds the live stream's fixed default port: it collides with
    every other run on the machine (and with the tests of a parallel session).
    Tests bind port 0, ipc:// or inproc://, or pass --no-publish."""
    import zmq

    from hotfire.daq.publisher import DEFAULT_ADDRESS

    bind = zmq.Socket.bind

    def guarded(self, addr, *args, **kwargs):
        if addr == DEFAULT_ADDRESS:
            raise AssertionError(f"a test bound the fixed port {addr}: pass --no-publish or "
                                 f"--publish tcp://127.0.0.1:0")
        return bind(self, addr, *args, **kwargs)

    monkeypatch.setattr(zmq.Socket, "bind", guarded)
