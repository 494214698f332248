"""`formcheck serve` through its API, against real server processes on 127.0.0.1 (real uploads, real worker
processes running the real model, a real SQLite history): the queue, a killed worker, a restart, the limits,
the token, the same-origin check, and every file route refusing what it does not know."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from webserver import SAMPLES, Server, cli_error, env, multipart

FIVE = ("dev02_feet_too_far", "dev03_feet_too_close_facing_left", "dev05_head_back", "dev07_no_pause",
        "dev09_heel_lift")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie (exited, not yet reaped) is not alive either
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("web-data"), "--workers", "2").start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def five(srv):
    """Five uploads sent at once (one thread each, video off for speed): their ids and what the API said."""
    answers: dict[str, tuple[int, dict]] = {}

    def send(name: str) -> None:
        answers[name] = srv.upload(SAMPLES / f"{name}.mp4", video="0")

    threads = [threading.Thread(target=send, args=(n,)) for n in FIVE]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # while they run: two at a time (one snapshot of the history per poll), the rest wait with their place shown
    seen_positions, most_running = set(), 0
    ids = {answers[n][1]["id"]: n for n in FIVE}
    t0 = time.monotonic()
    results = {}
    while len(results) < len(FIVE) and time.monotonic() - t0 < 300:
        rows = [r for r in srv.json("GET", "/api/analyses")[1]["analyses"] if r["id"] in ids]
        most_running = max(most_running, sum(r["status"] == "running" for r in rows))
        seen_positions |= {r["queue_position"] for r in rows if r["status"] == "queued"}
        for r in rows:
            if r["status"] in ("done", "failed") and ids[r["id"]] not in results:
                results[ids[r["id"]]] = srv.json("GET", f"/api/analyses/{r['id']}")[1]
        time.sleep(0.3)
    assert most_running == 2
    return answers, results, seen_positions


def test_five_uploads_at_once_all_finish_with_the_right_results(five):
    from formcheck.apps.rescore import rescore
    from formcheck.exercises import candidates

    answers, results, positions = five
    assert all(status == 202 for status, _ in answers.values()), answers
    assert len(results) == 5 and all(d["status"] == "done" for d in results.values()), results
    assert positions and min(positions) == 1     # the waiting ones were told their place
    for name, d in results.items():
        # the same analysis as the CLI's: the same tracker and rules over the same model's landmarks
        expect = json.loads(json.dumps(rescore(SAMPLES / f"{name}.mp4", candidates("auto")).to_dict()))
        got = d["report"]
        assert got["exercise"] == expect["exercise"] and got["n_reps"] == expect["n_reps"]
        assert [r["faults"] for r in got["reps"]] == [r["faults"] for r in expect["reps"]], name
        assert [[f["verdict"] for f in r["findings"]] for r in got["reps"]] == \
               [[f["verdict"] for f in r["findings"]] for r in expect["reps"]], name
        assert d["clip"] == f"{name}.mp4" and d["n_reps"] == got["n_reps"]
        # no server path leaves the server: the lifter's file name, the outputs by name
        assert got["video"]["path"] == f"{name}.mp4"
        assert got["outputs"] and all("/" not in v for v in got["outputs"].values()), got["outputs"]
        assert set(d["files"]) == {"report.json", "frames.csv", "report.html"}   # video=0: no annotated.mp4


def test_history_lists_every_set_with_faults_per_cue(srv, five):
    status, d = srv.json("GET", "/api/analyses")
    assert status == 200
    rows = {r["clip"]: r for r in d["analyses"]}
    assert {f"{n}.mp4" for n in FIVE} <= set(rows)
    head = {c["cue"]: c for c in rows["dev05_head_back.mp4"]["cues"]}
    assert head["head"]["verdict"] == "fail" and head["head"]["n_fail"] >= 1
    assert all(r["status"] == "done" and r["created_at"] for r in rows.values())


def test_every_file_route_refuses_traversal_absolute_paths_and_unknown_ids(srv, five):
    done = next(iter(five[1].values()))["id"]
    status, headers, body = srv.request("GET", f"/sets/{done}/report.json")
    assert status == 200 and "attachment" in str(headers).lower()
    assert str(srv.data).encode() not in body and json.loads(body)["video"]["path"].endswith(".mp4")
    assert srv.raw("GET", "/static/web.js").status == 200
    assert srv.raw("GET", f"/sets/{done}").status == 200      # renders and keeps the page beside the outputs
    cached = [p.name for p in (srv.data / "sets" / done).glob(".page-*.html")]
    assert len(cached) == 1
    bad = [
        f"/sets/{done}/../formcheck.sqlite3", f"/sets/{done}/..%2Fformcheck.sqlite3",
        f"/sets/{done}/%2e%2e%2f%2e%2e%2fformcheck.sqlite3", f"/sets/{done}/%2e%2e/%2e%2e/formcheck.sqlite3",
        f"/sets/{done}/%252e%252e%252fformcheck.sqlite3", f"/sets/{done}//etc/passwd", f"/sets/{done}/%2Fetc%2Fpasswd",
        f"/sets/{done}/{cached[0]}", f"/sets/{done}/annotated.mp4",   # exists only with video; here not
        f"/sets/{done}/report.json%00", "/sets/../formcheck.sqlite3/report.json",
        "/sets/%2e%2e/report.json", "/sets/0123456789abcdef/report.json", "/sets/0123456789abcdef",
        "/sets/ZZZZ/report.json", f"/sets/{done.upper()}/report.json", "//etc/passwd", "/etc/passwd",
        "/static/../apps/web/db.py", "/static/%2e%2e%2fpage.py", "/static/report.html.j2", "/static/",
        "/static//etc/passwd", "/trends/../formcheck.sqlite3", "/trends/knee.png", "/trends/%2e%2e%2fknee.svg",
        "/api/analyses/0123456789abcdef", "/api/analyses/..%2F..%2Fformcheck.sqlite3", "/api/analyses/%2e%2e",
        "/api/analyses/0123456789abcdef/events", "/uploads/", "/sets/", "/formcheck.sqlite3", "/logs/",
    ]
    for path in bad:
        r = srv.raw("GET", path)
        assert r.status == 404, (path, r.status)
    for path in ("/api/analyses/0123456789abcdef", "/api/analyses/..%2Fx"):
        assert srv.raw("DELETE", path).status == 404, path


def test_text_file_renamed_mp4_gets_the_clis_one_line_error(srv, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are my notes, not a video\n" * 20)
    status, d = srv.upload(fake)
    assert status == 400
    assert d["error"] == cli_error(fake)
    assert "\n" not in d["error"] and "notes.mp4" in d["error"]
    assert not any((srv.data / "uploads").iterdir())   # nothing kept of a refused upload
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    status, d = srv.upload(empty)
    assert status == 400 and d["error"] == cli_error(empty)


def test_bad_fields_and_bodies_get_one_line_errors(srv, tmp_path):
    status, d = srv.upload(SAMPLES / "dev13_clean_60fps.mp4", exercise="deadlift")
    assert status == 400 and "exercise must be one of" in d["error"]
    body, ctype = multipart({}, {"exercise": "auto"})
    status, d = srv.json("POST", "/api/analyses", body=body, headers={"Content-Type": ctype})
    assert status == 400 and "field `file`" in d["error"]
    status, d = srv.json("POST", "/api/analyses", body=b"{}", headers={"Content-Type": "application/json"})
    assert status == 415 and "multipart/form-data" in d["error"]
    bad_profile = tmp_path / "p.toml"
    bad_profile.write_text("[rules.head_back]\nneck_ext_max_deg = 'twenty'\n")
    body, ctype = multipart({"file": ("clip.mp4", (SAMPLES / "dev13_clean_60fps.mp4").read_bytes()),
                             "profile": ("p.toml", bad_profile.read_bytes())}, {})
    status, d = srv.json("POST", "/api/analyses", body=body, headers={"Content-Type": ctype})
    assert status == 400 and "profile" in d["error"] and str(srv.data) not in d["error"], d
    assert not any((srv.data / "uploads").iterdir())


def test_cross_origin_state_changes_are_refused(srv, five):
    done = next(iter(five[1].values()))["id"]
    body, ctype = multipart({"file": ("x.mp4", b"x")}, {})
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Referer": "http://evil.example/page"}, {"Origin": f"http://localhost:{srv.port + 1}"}):
        status, d = srv.json("POST", "/api/analyses", body=body, headers={"Content-Type": ctype, **headers})
        assert status == 403 and "cross-site" in d["error"], headers
        status, _ = srv.json("DELETE", f"/api/analyses/{done}", headers=headers)
        assert status == 403
    assert srv.json("GET", f"/api/analyses/{done}")[0] == 200       # still there
    # the page's own origin is fine (an error about the body, not the origin)
    status, d = srv.json("POST", "/api/analyses", body=body, headers={"Content-Type": ctype, "Origin": srv.url})
    assert status == 400


def test_security_headers_and_host_check(srv):
    for path in ("/", "/history", "/api/analyses", "/static/web.js", "/nope"):
        r = srv.raw("GET", path)
        h = {k.lower(): v for k, v in r.getheaders()}
        assert "script-src 'self'" in h["content-security-policy"] and "'unsafe-inline'" not in h[
            "content-security-policy"], path
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in h["content-security-policy"]
    # DNS rebinding: a loopback server answers only to loopback Host names
    assert srv.raw("GET", "/api/analyses", headers={"Host": "evil.example"}).status == 421
    assert srv.raw("GET", "/api/analyses", headers={"Host": f"localhost:{srv.port}"}).status == 200


def test_delete_removes_the_set_and_its_files(srv, five):
    set_id = five[1]["dev07_no_pause"]["id"]
    assert (srv.data / "sets" / set_id / "report.json").is_file()
    status, d = srv.json("DELETE", f"/api/analyses/{set_id}")
    assert status == 200 and d == {"deleted": set_id}
    assert srv.json("GET", f"/api/analyses/{set_id}")[0] == 404
    assert srv.raw("GET", f"/sets/{set_id}/report.json").status == 404
    assert not (srv.data / "sets" / set_id).exists()
    assert set_id not in {r["id"] for r in srv.json("GET", "/api/analyses")[1]["analyses"]}


# ------------------------------------------------------------------------------------- one worker at a time


@pytest.fixture(scope="module")
def solo(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("web-solo"), "--workers", "1").start()
    yield s
    s.stop()


def test_killing_a_worker_fails_only_its_job_and_the_next_one_runs(solo):
    status, first = solo.upload(SAMPLES / "dev13_clean_60fps.mp4")
    assert status == 202
    status, second = solo.upload(SAMPLES / "dev07_no_pause.mp4", video="0")
    assert status == 202 and second["queue_position"] == 1
    d = solo.wait(first["id"], statuses=("running",))
    t0 = time.monotonic()
    while not (d["progress"] and d["progress"]["frames_done"] > 30) and time.monotonic() - t0 < 60:
        time.sleep(0.2)
        d = solo.json("GET", f"/api/analyses/{first['id']}")[1]
    pid = d["worker_pid"]
    assert pid and _alive(pid) and pid != solo.proc.pid
    os.kill(pid, signal.SIGKILL)
    failed = solo.wait(first["id"])
    assert failed["status"] == "failed" and "SIGKILL" in failed["error"] and "upload the clip again" in failed["error"]
    assert "report" not in failed and not (solo.data / "sets" / first["id"]).exists()   # nothing half-written kept
    assert solo.raw("GET", f"/sets/{first['id']}/report.json").status == 404
    done = solo.wait(second["id"])
    assert done["status"] == "done" and done["report"]["n_reps"] >= 1
    assert not any((solo.data / "uploads").iterdir())


def test_cancelling_a_running_analysis_stops_its_worker_and_leaves_nothing(solo):
    status, job = solo.upload(SAMPLES / "dev13_clean_60fps.mp4", name="cancel me.mp4")
    d = solo.wait(job["id"], statuses=("running",))
    while not d["worker_pid"]:
        d = solo.json("GET", f"/api/analyses/{job['id']}")[1]
    status, answer = solo.json("DELETE", f"/api/analyses/{job['id']}")
    assert status == 200 and answer == {"deleted": job["id"]}
    assert not _alive(d["worker_pid"])
    assert solo.json("GET", f"/api/analyses/{job['id']}")[0] == 404
    assert not (solo.data / "sets" / job["id"]).exists() and not any((solo.data / "uploads").iterdir())


def test_restart_keeps_the_history_and_fails_unfinished_jobs(solo):
    before = {r["id"]: r["status"] for r in solo.json("GET", "/api/analyses")[1]["analyses"]}
    status, job = solo.upload(SAMPLES / "dev13_clean_60fps.mp4", name="unfinished.mp4")
    d = solo.wait(job["id"], statuses=("running",))
    while not d["worker_pid"]:
        d = solo.json("GET", f"/api/analyses/{job['id']}")[1]
    pid = d["worker_pid"]
    solo.stop(signal.SIGKILL)                  # the hardest stop: no clean-up in the server at all
    t0 = time.monotonic()
    while _alive(pid) and time.monotonic() - t0 < 10:   # the worker dies with its server
        time.sleep(0.1)
    assert not _alive(pid)
    (solo.data / "uploads" / "0123456789abcdef").write_bytes(b"an upload cut off by the stop, never queued")
    (solo.data / "sets" / ".import-0123456789abcdef").mkdir()
    solo.start()
    d = solo.json("GET", f"/api/analyses/{job['id']}")[1]
    assert d["status"] == "failed" and d["error"] == "the server stopped before this analysis finished: upload it again"
    after = {r["id"]: r["status"] for r in solo.json("GET", "/api/analyses")[1]["analyses"]}
    assert {k: v for k, v in after.items() if k != job["id"]} == before
    assert any(v == "done" for v in after.values())
    assert not (solo.data / "sets" / job["id"]).exists() and not any((solo.data / "uploads").iterdir())
    assert not (solo.data / "sets" / ".import-0123456789abcdef").exists()
    con = sqlite3.connect(solo.data / "formcheck.sqlite3")
    assert con.execute("SELECT version FROM schema_version").fetchone()[0] == 2
    con.close()


# ---------------------------------------------------------------------------------------------- limits, token


def test_oversize_upload_gets_413(tmp_path):
    s = Server(tmp_path / "data", "--max-upload-mb", "1").start()
    try:
        # Content-Length says so: refused before a byte of the body is read
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
            c.sendall(f"POST /api/analyses HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Type: multipart/form-data; "
                      f"boundary=b\r\nContent-Length: {3 * 1024 ** 3}\r\n\r\n".encode())
            got = b""
            while b"}" not in got and (chunk := c.recv(65536)):
                got += chunk
        assert got.startswith(b"HTTP/1.1 413") and b"--max-upload-mb" in got
        # no Content-Length (chunked): refused as the running count passes the limit
        import http.client

        body, ctype = multipart({"file": ("big.mp4", os.urandom(3 * 1024 * 1024))}, {})
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        conn.request("POST", "/api/analyses", body=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                     headers={"Content-Type": ctype}, encode_chunked=True)
        r = conn.getresponse()
        d = json.loads(r.read())
        assert r.status == 413 and "limit of 1 MB" in d["error"]
        conn.close()
        # under the limit passes the size check (and fails on content)
        small = tmp_path / "small.mp4"
        small.write_bytes(os.urandom(512 * 1024))
        assert s.upload(small)[0] == 400
        assert not any((s.data / "uploads").iterdir())
    finally:
        s.stop()


def test_beyond_localhost_every_request_needs_the_token(tmp_path):
    s = Server(tmp_path / "data", "--host", "0.0.0.0", "--token", "s3cret-token").start()
    try:
        out = "".join(s.lines)
        assert "?token=s3cret-token" in out and "access token" in out
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Cookie": "formcheck_token=wrong"}):
            status, d = s.json("GET", "/api/analyses", headers=headers)
            assert status == 401 and "token" in d["error"], headers
        assert s.json("GET", "/api/analyses?token=wrong")[0] == 401
        assert s.raw("GET", "/").status == 401 and s.raw("GET", "/sets/0123456789abcdef/report.json").status == 401
        assert s.json("GET", "/api/analyses", headers={"Authorization": "Bearer s3cret-token"})[0] == 200
        # the URL with the token once: a cookie (HttpOnly, SameSite=Strict) and the token out of the address bar
        r = s.raw("GET", "/history?token=s3cret-token")
        h = {k.lower(): v for k, v in r.getheaders()}
        assert r.status == 303 and h["location"] == "/history"
        assert "HttpOnly" in h["set-cookie"] and "SameSite=Strict" in h["set-cookie"]
        cookie = h["set-cookie"].split(";")[0]
        assert s.raw("GET", "/history", headers={"Cookie": cookie}).status == 200
    finally:
        s.stop()
    g = Server(tmp_path / "data2", "--host", "0.0.0.0").start()   # no --token: one is made and printed
    try:
        import re

        token = re.search(r"\?token=(\S+)", "".join(g.lines)).group(1)
        assert len(token) >= 20
        assert g.json("GET", "/api/analyses")[0] == 401
        assert g.json("GET", "/api/analyses", headers={"Authorization": f"Bearer {token}"})[0] == 200
    finally:
        g.stop()


# --------------------------------------------------------------------------------------- database, import


def test_database_migrates_an_old_file_and_refuses_a_newer_one(tmp_path):
    from formcheck.apps.web.db import MIGRATIONS, SCHEMA_VERSION, Database
    from formcheck.core.errors import OutputError

    path = tmp_path / "formcheck.sqlite3"
    con = sqlite3.connect(path)
    con.executescript(MIGRATIONS[0])
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    con.execute("INSERT INTO schema_version VALUES (1)")
    con.execute("INSERT INTO sets (id, created_at, clip_name, source, status) VALUES "
                "('0123456789abcdef', '2026-01-01T00:00:00+00:00', 'old.mp4', 'upload', 'failed')")
    con.commit()
    con.close()
    db = Database(path)
    assert db.version() == SCHEMA_VERSION == 2
    assert db.get("0123456789abcdef")["clip_name"] == "old.mp4" and db.trend_rows() == ([], [], [])
    con = sqlite3.connect(path)
    con.execute("UPDATE schema_version SET version = 99")
    con.commit()
    con.close()
    with pytest.raises(OutputError, match="newer formcheck"):
        Database(path)


def test_import_adds_batch_folders_once(srv, five, tmp_path):
    batch = tmp_path / "batch"
    for name in ("dev02_feet_too_far", "dev05_head_back"):
        shutil.copytree(srv.data / "sets" / five[1][name]["id"], batch / name)
    (batch / "summary.csv").write_text("clip\n")
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "formcheck.cli", "import", str(batch), "--data", str(data)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=120)
    assert r.returncode == 0 and "2 set(s) imported" in r.stdout, r.stderr
    r = subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=120)
    assert "0 set(s) imported" in r.stdout and r.stdout.count("already in the history") == 2
    s = Server(data).start()
    try:
        rows = s.json("GET", "/api/analyses")[1]["analyses"]
        assert len(rows) == 2 and all(r["status"] == "done" and r["source"] == "import" for r in rows)
        d = s.json("GET", f"/api/analyses/{rows[0]['id']}")[1]
        from formcheck.apps.web.app import public_report

        # the folder's report as the API gives every report: no path of the machine that analysed it
        assert d["report"] in [public_report(json.loads((batch / n / "report.json").read_text()), d["clip"])
                               for n in ("dev02_feet_too_far", "dev05_head_back")]
        assert d["report"]["video"]["path"] == d["clip"] and str(srv.data) not in json.dumps(d["report"])
        assert s.raw("GET", f"/sets/{rows[0]['id']}").status == 200
    finally:
        s.stop()
    r = subprocess.run([sys.executable, "-m", "formcheck.cli", "import", str(tmp_path / "nope"), "--data", str(data)],
                       capture_output=True, text=True, env=env(), timeout=120)
    assert r.returncode != 0 and "not a folder" in r.stderr


def test_serve_refuses_a_busy_port_and_a_bad_data_folder_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "formcheck.cli", "serve", "--port", str(port), "--data",
                            str(tmp_path / "d")], capture_output=True, text=True, env=env(), timeout=60)
    assert r.returncode == 2 and r.stderr.strip() == (f"formcheck: error: cannot listen on 127.0.0.1:{port} (Address "
                                                      f"already in use); pass another --port, or stop what uses it")
    (tmp_path / "file").write_text("x")
    r = subprocess.run([sys.executable, "-m", "formcheck.cli", "serve", "--data", str(tmp_path / "file" / "d")],
                       capture_output=True, text=True, env=env(), timeout=60)
    assert r.returncode == 7 and len(r.stderr.strip().splitlines()) == 1 and "pass a writable --data" in r.stderr
