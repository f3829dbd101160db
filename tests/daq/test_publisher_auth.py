"""The live stream on a network address: CurveZMQ keys, allowed and refused viewers."""
from __future__ import annotations

import json
import logging
import time

import numpy as np
import pytest
import zmq

from hotfire.core import keys
from hotfire.core.errors import HotfireError
from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.publisher import Publisher
from hotfire.daq.recorder import Recorder
from tests.daq.test_publisher import drain, short


@pytest.fixture
def keydir(tmp_path):
    d = tmp_path / "keys"
    keys.generate_server(d)
    keys.generate_client(d, "laptop")
    # a pair the server never saw: made elsewhere, its public key not in d/clients
    keys.generate_client(tmp_path / "other", "stranger")
    return d


def curve_sub(address, server_public, client):
    s = zmq.Context.instance().socket(zmq.SUB)
    s.setsockopt(zmq.RCVHWM, 0)
    s.setsockopt(zmq.LINGER, 0)
    s.curve_serverkey = server_public
    s.curve_publickey, s.curve_secretkey = client
    s.setsockopt(zmq.SUBSCRIBE, b"")
    s.connect(address)
    return s


def local(address):
    """``tcp://0.0.0.0:PORT`` as a viewer on this machine connects to it."""
    return "tcp://127.0.0.1:" + address.rsplit(":", 1)[1]


def test_an_allowed_viewer_gets_every_sample_bit_exact_and_a_stranger_nothing(keydir, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="hotfire.publisher.auth")
    rig, src = short()
    pub = Publisher("tcp://0.0.0.0:0", hwm=0, keys=keydir)  # every interface: a network bind
    assert pub.address.startswith("tcp://0.0.0.0:")
    server = keys.server_public(keydir)
    good = curve_sub(local(pub.address), server, keys.client_secret(keydir, "laptop"))
    bad = curve_sub(local(pub.address), server, keys.client_secret(tmp_path / "other", "stranger"))
    plain = zmq.Context.instance().socket(zmq.SUB)  # no CurveZMQ at all
    plain.setsockopt(zmq.SUBSCRIBE, b"")
    plain.setsockopt(zmq.LINGER, 0)
    plain.connect(local(pub.address))
    time.sleep(0.5)  # handshakes
    acq = Acquisition(rig, src, [Recorder(tmp_path / "runs"), pub], test_id="auth")
    summary = acq.run()
    msgs = drain(good)
    assert drain(bad, 0.3) == [] and drain(plain, 0.3) == []
    for s in (good, bad, plain):
        s.close()
    assert summary.error is None
    blocks = {}
    for m in msgs:
        if m[0] == b"data":
            h = json.loads(m[1])
            blocks.setdefault(h["stream"], []).append(np.frombuffer(m[2], h["dtype"]).reshape(h["n"], h["nch"]))
    with open_run(summary.path) as run:
        for name in rig.streams:
            assert np.array_equal(np.concatenate(blocks[name]), run.f["streams"][name]["raw"][()])
    assert pub.rejected == 1  # the stranger; libzmq does not retry a refused handshake, the plain peer never gets to ZAP
    refused = [r for r in caplog.records if "refused a viewer" in r.getMessage()]
    stranger = keys.client_secret(tmp_path / "other", "stranger")[0].decode()
    assert len(refused) == 1 and stranger in refused[0].getMessage()
    health = [json.loads(m[1]) for m in msgs if m[0] == b"health"]
    assert health[-1]["rejected"] == 1


def test_a_key_added_to_clients_is_allowed_without_a_restart(keydir):
    pub = Publisher("tcp://127.0.0.1:0", keys=keydir)
    try:
        keys.generate_client(keydir, "late")
        s = curve_sub(pub.address, keys.server_public(keydir), keys.client_secret(keydir, "late"))
        deadline = time.monotonic() + 3
        while not pub.viewers and time.monotonic() < deadline:
            pub._count_viewers()
            time.sleep(0.05)
        pub._send([b"events", b"[]"])
        assert s.poll(2000) and s.recv_multipart()[0] == b"events"
        assert pub.rejected == 0
        s.close()
    finally:
        pub.close()


@pytest.mark.parametrize("address", ["tcp://*:0", "tcp://0.0.0.0:0"])
def test_a_network_address_without_keys_says_how_to_make_them(address):
    with pytest.raises(HotfireError, match=r"without keys.*hotfire keys generate.*--keys DIR"):
        Publisher(address)


def test_missing_server_keys_are_named_and_nothing_is_bound(tmp_path):
    with pytest.raises(HotfireError, match=f"{tmp_path / 'server' / 'server.key_secret'}: no such key file"):
        Publisher("tcp://0.0.0.0:0", keys=tmp_path)


def test_acquire_publishes_on_the_network_with_keys(keydir, tmp_path, capsys):
    from hotfire.cli import main
    assert main(["acquire", "lox-ethanol-5kN", "--sim", "--fast", "--duration", "0.2", "--out", str(tmp_path / "r"),
                 "--publish", "tcp://0.0.0.0:0", "--keys", str(keydir), "--quiet"]) == 0
    err = capsys.readouterr().err
    import socket
    assert "(CurveZMQ)" in err and "--keys DIR --key NAME" in err
    # the hint names this computer, not 0.0.0.0 (no viewer can connect to that)
    assert f"hotfire view --connect tcp://{socket.gethostname()}:" in err
