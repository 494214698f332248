"""`formcheck serve`: the local web app (upload a clip from a phone or a browser, see the result, keep the history).

Why FastAPI + uvicorn: a well-kept ASGI stack where Starlette gives range requests for the video (FileResponse),
streamed responses for Server-Sent Events and plain ASGI middleware for the security checks; uvicorn is its
usual server and runs in this process, so `serve` is one command with no other service to start.
"""
from __future__ import annotations

import argparse
import ipaddress
import secrets
import socket

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add(sub, common) -> None:
    sp = sub.add_parser("serve", help="run the local web app: upload clips, see results and progress over time")
    sp.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0 lets a phone on the "
                         "same Wi-Fi in, with an access token)")
    sp.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    sp.add_argument("--data", help="folder for the history, uploads and outputs (default: the user's data folder, "
                                   "e.g. ~/.local/share/formcheck)")
    sp.add_argument("--token", help="access token for a server reachable beyond this computer (default: a new "
                                    "random one, printed in the URL)")
    sp.add_argument("--max-upload-mb", type=int, default=2048, help="largest upload accepted (default 2048 MB)")
    sp.add_argument("--workers", type=int, help="analyses run at once (default: one per core)")
    sp.add_argument("--model", help="pose model: lite, full (default) or heavy, or a path to a .task bundle")
    sp.set_defaults(func=run)


def _lan_address() -> str | None:
    """This machine's address on the local network (no packet is sent: a UDP connect only picks the route)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
    except OSError:
        return None


def _bind(host: str, port: int) -> socket.socket:
    from formcheck.core.errors import FormcheckError

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        err = FormcheckError(f"cannot listen on {host}:{port} ({e.strerror}); pass another --port, or stop what "
                             f"uses it")
        raise err from None
    sock.set_inheritable(True)
    return sock


def run(a: argparse.Namespace) -> int:
    import uvicorn

    from formcheck.apps.web.app import Config, create_app
    from formcheck.apps.web.store import default_data_dir
    from formcheck.core.errors import FormcheckError

    if a.max_upload_mb < 1:
        raise FormcheckError("--max-upload-mb must be at least 1")
    loopback = a.host in LOOPBACK or (_is_ip(a.host) and ipaddress.ip_address(a.host).is_loopback)
    token = None if loopback else (a.token or secrets.token_urlsafe(18))
    data = a.data or default_data_dir()
    app = create_app(Config(data_dir=data, token=token, loopback_only=loopback,
                            max_upload_bytes=a.max_upload_mb * 1024 * 1024, workers=a.workers, model=a.model))
    sock = _bind(a.host, a.port)
    port = sock.getsockname()[1]
    store = app.app.state.store
    if loopback:
        print(f"formcheck: serving http://{'[::1]' if a.host == '::1' else '127.0.0.1'}:{port}/ "
              f"(this computer only)", flush=True)
    else:
        shown = _lan_address() if a.host in ("0.0.0.0", "::") else a.host
        print(f"formcheck: serving on {a.host}:{port}, reachable from other devices on this network. Every request "
              f"needs the access token: open", flush=True)
        print(f"  http://{shown or '<this-computer>'}:{port}/?token={token}", flush=True)
        print("  on the phone (same Wi-Fi). Anyone with that URL can upload and see the sets: share it only with "
              "yourself.", flush=True)
    print(f"formcheck: data in {store.root} (history, uploads, outputs); Ctrl-C stops", flush=True)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3, access_log=False,
                            proxy_headers=False, server_header=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False
