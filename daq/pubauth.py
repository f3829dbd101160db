"""CurveZMQ on the publisher's PUB socket: the server key and a ZAP handler that
allows the public keys in the key folder's ``clients/`` (see :mod:`hotfire.core.keys`).

The handler runs in pyzmq's authenticator thread, never in acquisition: a
client it refuses costs the acquisition loop nothing. The folder is read at
each connection, so a key added or removed counts for the next viewer.
"""
from __future__ import annotations

import logging

import zmq
from zmq.auth.thread import ThreadAuthenticator

from hotfire.core import keys as keyfiles
from hotfire.core.errors import HotfireError

log = logging.getLogger("hotfire.publisher.auth")


class CurveGate:
    """Make ``sock`` a CurveZMQ server allowing the clients of the folder ``keys``.

    Call before the socket binds. :attr:`rejected` counts refused handshakes
    (libzmq 4.3.5: a refused viewer does not retry, so once per viewer started).

    Raises
    ------
    HotfireError
        A missing or unreadable server secret key, or no ``clients/`` folder (the file is named).
    """

    def __init__(self, ctx: zmq.Context, sock: zmq.Socket, keys):
        public, secret = keyfiles.server_secret(keys)
        self.clients = keyfiles.clients_dir(keys)
        self.keys = keys
        self.rejected = 0
        self._seen: set[bytes] = set()
        self.auth = ThreadAuthenticator(ctx, log=log)
        self.auth.start()
        self.auth.configure_curve_callback("*", credentials_provider=self)
        sock.curve_secretkey = secret
        sock.curve_publickey = public
        sock.curve_server = True

    def callback(self, domain: str, key: bytes) -> bool:
        """The ZAP decision for a client's z85 public ``key``: allowed if in ``clients/``."""
        try:
            allowed = key in keyfiles.allowed_clients(self.keys).values()
        except HotfireError as exc:
            log.error("refusing a viewer: %s", exc)
            allowed = False
        if not allowed:
            self.rejected += 1
            if key not in self._seen:  # once per key: a viewer restarted in a loop does not flood the log
                self._seen.add(key)
                log.warning("refused a viewer with the unknown key %s (not in %s)", key.decode(), self.clients)
        return allowed

    def stop(self):
        self.auth.stop()
