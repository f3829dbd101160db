"""CurveZMQ key files: where they go, their permissions, and errors that name the file."""
from __future__ import annotations

import os
import stat

import pytest
import zmq

from hotfire.cli import main
from hotfire.core import keys
from hotfire.core.errors import HotfireError


def mode(p):
    return stat.S_IMODE(p.stat().st_mode)


def test_generate_makes_a_server_pair_and_clients_with_private_files_600(tmp_path, capsys):
    d = tmp_path / "k"
    assert main(["keys", "generate", "--dir", str(d)]) == 0
    assert main(["keys", "client", "laptop", "--dir", str(d)]) == 0
    assert mode(d / "server" / "server.key_secret") == 0o600
    assert mode(d / "clients" / "laptop.key_secret") == 0o600
    assert mode(d / "server") == 0o700 and mode(d / "clients") == 0o700
    # a real CurveZMQ pair: the secret key derives the public key written beside it
    pub, sec = keys.server_secret(d)
    assert zmq.curve_public(sec) == pub == keys.server_public(d)
    cpub, csec = keys.client_secret(d, "laptop")
    assert zmq.curve_public(csec) == cpub == keys.allowed_clients(d)["laptop"]
    capsys.readouterr()
    assert main(["keys", "list", "--dir", str(d)]) == 0
    out = capsys.readouterr().out
    assert pub.decode() in out and f"client laptop: {cpub.decode()}" in out


def test_an_existing_key_is_kept_unless_forced(tmp_path, capsys):
    keys.generate_server(tmp_path)
    first = keys.server_public(tmp_path)
    assert main(["keys", "generate", "--dir", str(tmp_path)]) == 1
    assert f"{tmp_path / 'server' / 'server.key'} exists" in capsys.readouterr().err
    assert keys.server_public(tmp_path) == first
    keys.generate_server(tmp_path, force=True)
    assert keys.server_public(tmp_path) != first


def test_a_secret_key_readable_by_others_is_refused_naming_it(tmp_path):
    keys.generate_server(tmp_path)
    f = tmp_path / "server" / "server.key_secret"
    os.chmod(f, 0o640)
    with pytest.raises(HotfireError, match=f"{f}: a secret key readable by others.*chmod 600"):
        keys.server_secret(tmp_path)


def test_missing_and_damaged_key_files_are_named(tmp_path):
    with pytest.raises(HotfireError, match=f"{tmp_path / 'server' / 'server.key'}: no such key file.*keys generate"):
        keys.server_public(tmp_path)
    keys.generate_server(tmp_path)
    (tmp_path / "server" / "server.key").write_text("garbage\n")
    with pytest.raises(HotfireError, match="server.key: not a key file"):
        keys.server_public(tmp_path)
    # a public file copied where the secret one belongs
    keys.generate_client(tmp_path, "v")
    sec = tmp_path / "clients" / "v.key_secret"
    sec.write_text((tmp_path / "clients" / "v.key").read_text())
    os.chmod(sec, 0o600)
    with pytest.raises(HotfireError, match="v.key_secret: holds no secret-key line"):
        keys.client_secret(tmp_path, "v")


def test_a_client_name_must_be_a_plain_file_name(tmp_path):
    with pytest.raises(HotfireError, match="client name '../x'"):
        keys.generate_client(tmp_path, "../x")


def test_default_folder_is_under_the_config_home(monkeypatch, tmp_path):
    monkeypatch.delenv("HOTFIRE_KEYS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert keys.default_dir() == tmp_path / "hotfire" / "keys"
    monkeypatch.setenv("HOTFIRE_KEYS", str(tmp_path / "elsewhere"))
    assert keys.default_dir() == tmp_path / "elsewhere"
