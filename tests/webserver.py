"""A real `formcheck serve` process for the web tests: started on a free port with its own --data folder, reached
over HTTP with the standard library (urllib / http.client), stopped by its own pid."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"


def env() -> dict:
    src = str(ROOT / "src")
    return {**os.environ, "PYTHONPATH": src + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get(
        "PYTHONPATH") else "")}


class Server:
    def __init__(self, data: Path, *args: str) -> None:
        self.data, self.args = Path(data), list(args)
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.lines: list[str] = []

    def start(self, timeout_s: float = 30.0) -> "Server":
        self.proc = subprocess.Popen([sys.executable, "-m", "formcheck.cli", "serve", "--port", "0", "--data",
                                      str(self.data), *self.args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env())
        deadline = time.monotonic() + timeout_s
        assert self.proc.stdout is not None
        self.lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server exited: " + "".join(self.lines))
            self.lines.append(line)
            m = re.search(r"serving (?:on \S+?:|http://\S+?:)(\d+)", line)
            if m:
                self.port = int(m.group(1))
            if "data in" in line:
                break
        self.url = f"http://127.0.0.1:{self.port}"
        # drain the rest of the output in the background so the pipe never fills
        import threading

        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    # ---------------------------------------------------------------------------------------------- http

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
                ) -> tuple[int, dict, bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method: str, path: str, **kw) -> tuple[int, dict]:
        status, _, body = self.request(method, path, **kw)
        return status, json.loads(body) if body else {}

    def upload(self, path: Path, name: str | None = None, **fields: str) -> tuple[int, dict]:
        body, ctype = multipart({"file": (name or Path(path).name, Path(path).read_bytes())}, fields)
        return self.json("POST", "/api/analyses", body=body, headers={"Content-Type": ctype})

    def wait(self, set_id: str, statuses=("done", "failed"), timeout_s: float = 180.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status, d = self.json("GET", f"/api/analyses/{set_id}")
            assert status == 200, d
            if d["status"] in statuses:
                return d
            time.sleep(0.3)
        raise AssertionError(f"{set_id} still {d['status']} after {timeout_s} s")

    def raw(self, method: str, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
        """A request sent as given (no URL normalisation: `..` and %2e stay as written)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.putrequest(method, path, skip_accept_encoding=True,
                     skip_host=any(k.lower() == "host" for k in (headers or {})))
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        r.read()
        c.close()
        return r


def multipart(files: dict[str, tuple[str, bytes]], fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = bytearray()
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for k, (fname, data) in files.items():
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{fname}"\r\n'
                f'Content-Type: application/octet-stream\r\n\r\n').encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def cli_error(clip: Path) -> str:
    """What `formcheck analyze CLIP` prints as its one-line error (run in the clip's folder, by its name)."""
    r = subprocess.run([sys.executable, "-m", "formcheck.cli", "analyze", clip.name, "--no-video", "--no-html", "-o",
                        str(clip.parent / "cli_out")], cwd=clip.parent, capture_output=True, text=True, env=env(),
                       timeout=120)
    assert r.returncode != 0
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("formcheck: error: ")
    return line.removeprefix("formcheck: error: ")
