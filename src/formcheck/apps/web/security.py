"""The guard in front of every request (plain ASGI middleware, so it also covers streamed responses):

- Host check: on a loopback bind only `localhost`/`127.0.0.1`/`[::1]` Host headers are served, so a web page
  elsewhere cannot reach the server through DNS rebinding.
- Access token (when bound beyond loopback): a `?token=` once (then an HttpOnly SameSite=Strict cookie, and a
  redirect that takes the token out of the address bar), or `Authorization: Bearer`, compared with
  hmac.compare_digest; anything else gets 401.
- Same origin: a POST/PUT/PATCH/DELETE whose Origin (or, without one, Referer) is not this server gets 403.
- Security headers on every answer: a CSP without inline script or style, nosniff, no referrer, no framing.
"""
from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

COOKIE = "formcheck_token"
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    def __init__(self, app, *, token: str | None, loopback_only: bool) -> None:
        self.app = app
        self.token = token
        self.loopback_only = loopback_only

    def _ok_token(self, value: str | None) -> bool:
        return bool(value) and self.token is not None and hmac.compare_digest(value.encode(), self.token.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        path = scope["path"]
        host = headers.get("host", "")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        if self.loopback_only and _hostname(host) not in LOOPBACK_HOSTS:
            return await _answer(send_with_headers, 421, "this server answers only on localhost; open "
                                 "http://127.0.0.1:<port>/ (or start it with --host 0.0.0.0 for other machines)",
                                 path)
        if self.token is not None:
            cookie = SimpleCookie()
            try:
                cookie.load(headers.get("cookie", ""))
            except Exception:  # noqa: BLE001 - a malformed cookie header is just no cookie
                pass
            auth = headers.get("authorization", "")
            ok = (COOKIE in cookie and self._ok_token(cookie[COOKIE].value)) or (
                auth.lower().startswith("bearer ") and self._ok_token(auth[7:].strip()))
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            given = next((v for k, v in query if k == "token"), None)
            if not ok and given is not None and self._ok_token(given):
                if method == "GET" and not path.startswith("/api/"):   # set the cookie, drop the token from the URL
                    rest = urlencode([(k, v) for k, v in query if k != "token"])
                    location = path + (f"?{rest}" if rest else "")
                    await send_with_headers({"type": "http.response.start", "status": 303, "headers": [
                        (b"location", location.encode("latin-1")),
                        (b"set-cookie", f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/".encode()),
                        (b"cache-control", b"no-store"), (b"content-length", b"0")]})
                    await send_with_headers({"type": "http.response.body", "body": b""})
                    return
                ok = True
            if not ok:
                return await _answer(send_with_headers, 401, "this server needs its access token: open the URL "
                                     "with ?token=... that `formcheck serve` printed", path)
        if method not in SAFE_METHODS:
            source = headers.get("origin") or headers.get("referer")
            if source and (source == "null" or urlsplit(source).netloc.lower() != host.lower()):
                return await _answer(send_with_headers, 403, "cross-site request refused: use the page this "
                                     "server serves", path)
        return await self.app(scope, receive, send_with_headers)


async def _answer(send, status: int, message: str, path: str) -> None:
    """A one-line error: JSON for the API, a short text page for a browser."""
    if path.startswith("/api/"):
        body, ctype = json.dumps({"error": message}).encode(), b"application/json"
    else:
        body, ctype = f"formcheck: {message}\n".encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
