"""CurveZMQ key files for the live stream on a network (``hotfire keys``).

The acquisition computer (the server) and each remote viewer (a client) have
a key pair. The server allows a client when the client's *public* key is in
its ``clients/`` folder. One folder holds them all::

    KEYS/                        default ~/.config/hotfire/keys (or $HOTFIRE_KEYS)
        server/server.key        server public key: copy it to every viewer
        server/server.key_secret server secret key (mode 600): never leaves the stand
        clients/NAME.key         a client's public key: the server allows it
        clients/NAME.key_secret  that client's secret key (mode 600): move it to the viewer

A viewer's own folder has the same layout with only ``server/server.key``
and its ``clients/NAME.key_secret``. The files are pyzmq's certificate
format (:func:`zmq.auth.create_certificates`).

Shared by the publisher (daq) and the viewer (gui), so it lives in core.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from hotfire.core.errors import HotfireError

SERVER = "server"
#: a client's name becomes a file name: keep it plain
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def default_dir() -> Path:
    """The key folder: ``$HOTFIRE_KEYS``, else ``$XDG_CONFIG_HOME/hotfire/keys`` (``~/.config/...``)."""
    if os.environ.get("HOTFIRE_KEYS"):
        return Path(os.environ["HOTFIRE_KEYS"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "hotfire" / "keys"


def _create(folder: Path, name: str, force: bool) -> tuple[Path, Path]:
    import zmq.auth

    public, secret = folder / f"{name}.key", folder / f"{name}.key_secret"
    for f in (public, secret):
        if f.exists() and not force:
            raise HotfireError(f"{f} exists: keep it, or replace it with --force (viewers holding the old key "
                               f"are then refused)")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    old = os.umask(0o077)  # the secret file is never readable by others, not even for a moment
    try:
        for f in (public, secret):
            f.unlink(missing_ok=True)
        zmq.auth.create_certificates(str(folder), name)
    finally:
        os.umask(old)
    os.chmod(secret, 0o600)
    os.chmod(public, 0o644)  # public keys are meant to be copied
    return public, secret


def generate_server(keys: Path, force: bool = False) -> tuple[Path, Path]:
    """Make the server key pair in ``keys/server/`` and an empty ``keys/clients/``.

    Returns
    -------
    (public, secret) : tuple of Path

    Raises
    ------
    HotfireError
        If a server key exists and ``force`` is false.
    """
    pair = _create(Path(keys) / SERVER, SERVER, force)
    (Path(keys) / "clients").mkdir(exist_ok=True, mode=0o700)
    return pair


def generate_client(keys: Path, name: str, force: bool = False) -> tuple[Path, Path]:
    """Make a client key pair ``keys/clients/NAME.key`` (allowed by the server) and ``NAME.key_secret``.

    Raises
    ------
    HotfireError
        A name that is not a plain file name, or a key of that name exists and ``force`` is false.
    """
    if not NAME_RE.match(name):
        raise HotfireError(f"client name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    return _create(Path(keys) / "clients", name, force)


def _load(path: Path, secret: bool) -> tuple[bytes, bytes | None]:
    import zmq.auth

    if not path.is_file():
        raise HotfireError(f"{path}: no such key file (make keys with `hotfire keys generate` and "
                           f"`hotfire keys client NAME`; docs/live-view.md)")
    if secret:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise HotfireError(f"{path}: a secret key readable by others (mode {mode:o}): chmod 600 {path}")
    try:
        public, sec = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise HotfireError(f"{path}: not a key file ({exc})") from None
    if secret and not sec:
        raise HotfireError(f"{path}: holds no secret-key line (a public key file where a secret one was expected)")
    return public, sec


def server_secret(keys: Path) -> tuple[bytes, bytes]:
    """The server's (public, secret) keys from ``keys/server/server.key_secret`` (mode 600)."""
    return _load(Path(keys) / SERVER / f"{SERVER}.key_secret", secret=True)


def server_public(keys: Path) -> bytes:
    """The server's public key, ``keys/server/server.key``, as a viewer holds it."""
    return _load(Path(keys) / SERVER / f"{SERVER}.key", secret=False)[0]


def client_secret(keys: Path, name: str) -> tuple[bytes, bytes]:
    """A client's (public, secret) keys from ``keys/clients/NAME.key_secret`` (mode 600)."""
    return _load(Path(keys) / "clients" / f"{name}.key_secret", secret=True)


def clients_dir(keys: Path) -> Path:
    """The folder of the public keys the server allows.

    Raises
    ------
    HotfireError
        If it does not exist.
    """
    d = Path(keys) / "clients"
    if not d.is_dir():
        raise HotfireError(f"{d}: no such folder of allowed client keys (`hotfire keys generate --dir {keys}`)")
    return d


def allowed_clients(keys: Path) -> dict[str, bytes]:
    """Client name -> public key (z85) of every ``clients/*.key``."""
    out = {}
    for f in sorted(clients_dir(keys).glob("*.key")):
        out[f.stem] = _load(f, secret=False)[0]
    return out
