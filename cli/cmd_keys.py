"""``hotfire keys``: CurveZMQ keys for watching the live stream from another machine."""
from __future__ import annotations

from pathlib import Path

from hotfire.core import keys


def add_arguments(p):
    p.add_argument("action", choices=["generate", "client", "list"],
                   help="generate: the server key pair (on the stand); client NAME: a viewer's key pair, "
                        "allowed by the server; list: the keys in the folder")
    p.add_argument("name", nargs="?", help="client: the viewer's name (a laptop, a person)")
    p.add_argument("--dir", metavar="D", default=None,
                   help=f"key folder (default: $HOTFIRE_KEYS or {keys.default_dir()})")
    p.add_argument("--force", action="store_true", help="replace an existing key (its holders are then refused)")


def run(args) -> int:
    from hotfire.core.errors import HotfireError

    d = Path(args.dir).expanduser() if args.dir else keys.default_dir()
    if args.action != "client" and args.name:
        raise HotfireError(f"keys {args.action} takes no name (got {args.name!r})")
    if args.action == "generate":
        public, secret = keys.generate_server(d, force=args.force)
        print(f"server public key {public}  (copy it to each viewer's {keys.SERVER}/ folder)")
        print(f"server secret key {secret}  (mode 600; stays on this computer)")
        print(f"allow a viewer with: hotfire keys client NAME --dir {d}")
    elif args.action == "client":
        if not args.name:
            raise HotfireError("keys client needs the viewer's NAME (e.g. hotfire keys client laptop-anna)")
        public, secret = keys.generate_client(d, args.name, force=args.force)
        print(f"client public key {public}  (the server now allows {args.name})")
        print(f"client secret key {secret}  (mode 600; move it to the viewer's clients/ folder with "
              f"{keys.SERVER}/{keys.SERVER}.key)")
    else:
        server = d / keys.SERVER / f"{keys.SERVER}.key"
        print(f"{d}")
        print(f"  server: {keys.server_public(d).decode()}" if server.is_file() else "  server: none (hotfire keys generate)")
        allowed = keys.allowed_clients(d) if (d / "clients").is_dir() else {}
        for name, key in allowed.items():
            has_secret = (d / "clients" / f"{name}.key_secret").is_file()
            print(f"  client {name}: {key.decode()}" + ("  (secret key here)" if has_secret else ""))
        if not allowed:
            print("  no clients allowed (hotfire keys client NAME)")
    return 0
