"""`formcheck batch`: real clips through real worker processes (and a real local Ray cluster), broken files among
them, a batch killed part-way and resumed. No mocks: the model, the pool and the files are the real ones."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from formcheck.apps import batch
from formcheck.cli import main
from conftest import SAMPLES

RULES = batch.RULE_IDS
SHORT = "dev13_clean_60fps"                     # 8 s, 2 clean reps
HEAD = "dev05_head_back"                        # 12 s: [[], [head_back], [head_back]]
CLOSE = "dev03_feet_too_close_facing_left"      # 12 s: feet_too_close on all 3 reps
BROKEN = {"empty": "empty", "notes": "not a readable video", "truncated": "truncated"}


def link_clips(folder: Path, names, copy: bool = False) -> None:
    """Symlinks to sample clips (copies where the same clip must appear twice: the batch de-duplicates links)."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        if copy:
            shutil.copy(SAMPLES / f"{n}.mp4", folder / f"{n}.mp4")
        else:
            (folder / f"{n}.mp4").symlink_to(SAMPLES / f"{n}.mp4")


def add_broken(folder: Path) -> None:
    """An empty file, a text file named .mp4, and the first 30% of a real clip."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("squat 3x5, hip thrust 4x8: not a video\n" * 40)
    data = (SAMPLES / f"{SHORT}.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: int(0.3 * len(data))])


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def rows_by_dir(out: Path) -> dict[str, dict]:
    return {r["output_dir"]: r for r in summary(out)["clips"]}


def assert_broken_rows(rows: dict[str, dict], folder: Path) -> None:
    for name, words in BROKEN.items():
        r = rows[name]
        assert r["status"] == "error", r
        msg = r["error"]
        assert msg and "\n" not in msg and "Traceback" not in msg
        assert msg.startswith(str(folder / f"{name}.mp4")), msg     # says which file
        if name == "truncated":   # the decodable start holds no complete rep, or the container is unreadable
            assert "no complete hip-thrust rep" in msg or "truncated" in msg or "not a readable video" in msg, msg
        else:
            assert words in msg, msg
        assert r["reps"] is None and r["seconds_taken"] is not None


def assert_complete(clipdir: Path, video: bool = False) -> dict:
    """A finished clip folder: every output, the done marker, no temp folder left."""
    names = {"report.json", "frames.csv", batch.DONE_MARKER} | ({"annotated.mp4"} if video else set())
    have = {p.name for p in clipdir.iterdir()}
    assert names <= have, (clipdir, have)
    assert not [n for n in have if n.startswith(".partial-")], have
    return json.loads((clipdir / "report.json").read_text())


def faults(report: dict) -> list[list[str]]:
    return [r["faults"] for r in report["reps"]]


# ---------------------------------------------------------------------------------------------------- fast


def test_output_names_are_readable_unique_and_stable(tmp_path):
    a, b = tmp_path / "mon" / "set1", tmp_path / "tue" / "set1"
    for d in (a, b, tmp_path / "in" / "sub"):
        d.mkdir(parents=True)
    files = [a / "clip.mp4", b / "clip.mp4", a / "other.mov", a / "other.mp4", tmp_path / "in" / "sub" / "x.mp4",
             tmp_path / "in" / "x.mp4", tmp_path / "in" / "summary.mp4"]
    for f in files:
        f.write_bytes(b"")
    names = batch.output_names(files, [str(f) for f in files[:4]] + [str(tmp_path / "in")])
    assert names[:4] == ["mon__set1__clip", "tue__set1__clip", "other_mov", "other_mp4"]
    assert names[4:6] == ["sub__x", "x"]
    assert names[6].startswith("summary-")            # never shadows summary.csv/json or index.html
    assert len(set(names)) == len(names)
    assert names == batch.output_names(files, [str(f) for f in files[:4]] + [str(tmp_path / "in")])


def _double_or_die(x: int) -> int:
    """A pool job: -1 kills its worker process (as a decoder segfault or the OOM killer would), 0 raises."""
    from formcheck.apps import pool

    if x < 0:
        os._exit(70)
    if x == 0:
        raise ValueError("zero is not allowed")
    pool.send(("seen", x))
    return 2 * x


@pytest.mark.parametrize("n_workers", [1, 2])
def test_pool_records_a_crashed_worker_and_finishes_the_others(n_workers):
    from contextlib import closing

    from formcheck.apps import pool

    notes, messages, events = [], [], []
    jobs = [1, 2, -1, 0, 3, 4]

    def on_message(item):
        messages.append(item)
        events.append(item)

    outcomes = []
    with closing(pool.run_pool(_double_or_die, jobs, n_workers, on_message=on_message, note=notes.append)) as it:
        for o in it:
            outcomes.append(o)
            events.append(("outcome", o.job))
    by_job = {o.job: o for o in outcomes}
    assert sorted(o.job for o in outcomes) == sorted(jobs)          # every job exactly once
    for x in (1, 2, 3, 4):
        assert by_job[x].ok and by_job[x].value == 2 * x and not by_job[x].crashed
    assert by_job[-1].crashed and "worker process died" in by_job[-1].error
    assert not by_job[0].crashed and by_job[0].error == "ValueError: zero is not allowed"
    assert notes and notes[0].startswith("a worker process died; retrying")
    assert set(messages) == {("seen", x) for x in (1, 2, 3, 4)}
    for x in (1, 2, 3, 4):                  # what a job sent arrives before its outcome
        assert events.index(("seen", x)) < events.index(("outcome", x))


def test_index_page_escapes_what_it_shows(tmp_path):
    row = {**batch.empty_row("clips/<b>&amp;.mp4", "x"), "error": '<script>alert("no")</script>'}
    meta = {"exercise": "auto", "profile": {"source": "<i>p</i>"}, "model": {"name": "m"}, "generated_at": "now"}
    page = batch.index_html(tmp_path, [row], meta)
    assert "<script" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;" in page and "clips/&lt;b&gt;&amp;amp;.mp4" in page and "&lt;i&gt;p&lt;/i&gt;" in page


def test_bad_arguments_fail_with_one_line(tmp_path, capsys):
    assert main(["batch", str(tmp_path), "-o", str(tmp_path / "out")]) == 3      # empty folder: nothing to do
    err = capsys.readouterr().err.strip()
    assert err.startswith("formcheck: error: no video files found") and len(err.splitlines()) == 1
    (tmp_path / "a.mp4").write_bytes(b"")
    assert main(["batch", str(tmp_path), "-o", str(tmp_path / "out"), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err


def test_videos_inside_the_output_folder_are_not_taken_for_clips(tmp_path, capsys):
    folder = tmp_path / "clips"
    (folder / "out" / "old").mkdir(parents=True)
    (folder / "out" / "old" / "annotated.mp4").write_bytes(b"\0" * 64)
    (folder / "notes.mp4").write_text("not a video")
    assert main(["batch", str(folder), "-o", str(folder / "out"), "--jobs", "1"]) == batch.EXIT_SOME_FAILED
    assert set(rows_by_dir(folder / "out")) == {"notes"}
    assert "1 clip(s): 0 analysed, 0 skipped (unchanged), 1 failed" in capsys.readouterr().out


def test_broken_clips_are_recorded_and_the_local_backend_never_imports_ray(tmp_path):
    """Runs in a fresh interpreter so 'ray' cannot be in sys.modules from another test."""
    folder = tmp_path / "clips"
    add_broken(folder)
    code = ("import sys; from formcheck.cli import main; c = main(['batch', sys.argv[1], '-o', sys.argv[2], "
            "'--no-video', '--jobs', '2']); assert 'ray' not in sys.modules, 'local backend imported ray'; "
            "sys.exit(c)")
    p = subprocess.run([sys.executable, "-c", code, str(folder), str(tmp_path / "out")], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == batch.EXIT_SOME_FAILED, p.stderr
    rows = rows_by_dir(tmp_path / "out")
    assert set(rows) == set(BROKEN)
    assert_broken_rows(rows, folder)
    assert p.stdout.count("error  ") >= 3 and "3 failed" in p.stdout
    assert "Traceback" not in p.stderr
    assert not [d for d in (tmp_path / "out").iterdir() if d.is_dir()]   # no empty folders for failed clips


def test_batch_matches_analyze_records_broken_clips_and_skips_unchanged(tmp_path, capsys):
    from formcheck.apps.analyze import analyze

    folder = tmp_path / "clips"
    link_clips(folder, [SHORT, HEAD])
    link_clips(folder / "again", [SHORT], copy=True)   # same name in another folder
    add_broken(folder)
    out = tmp_path / "out"
    assert main(["batch", str(folder), "-o", str(out), "--no-video", "--jobs", "2"]) == batch.EXIT_SOME_FAILED
    printed = capsys.readouterr().out
    rows = rows_by_dir(out)
    assert set(rows) == {SHORT, HEAD, f"again__{SHORT}", *BROKEN}
    assert_broken_rows(rows, folder)

    direct = analyze(SAMPLES / f"{SHORT}.mp4", tmp_path / "direct", video=False).to_dict()
    for name in (SHORT, f"again__{SHORT}"):
        r = rows[name]
        rep = assert_complete(out / name)
        assert r["status"] == "ok" and r["error"] == ""
        assert r["reps"] == direct["n_reps"] == 2 and faults(rep) == faults(direct)
        assert r["frames"] == direct["n_frames"] and r["detection_rate"] == direct["detection_rate"]
        assert r["duration_s"] == pytest.approx(8.2, abs=0.1)
    h = rows[HEAD]
    assert faults(assert_complete(out / HEAD)) == [[], ["head_back"], ["head_back"]]   # the package doctest's
    assert (h["reps"], h["head_back_fail"], h["faults"]) == (3, 2, "2:head_back 3:head_back")
    for r in (rows[SHORT], h):       # every rep gets one verdict per rule
        assert all(r[f"{k}_fail"] + r[f"{k}_pass"] + r[f"{k}_not_judged"] == r["reps"] for k in RULES)

    # summary.csv holds the same rows; index.html is self-contained and links every clip's outputs
    import csv

    with open(out / "summary.csv", newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    assert [c["output_dir"] for c in csv_rows] == [r["output_dir"] for r in summary(out)["clips"]]
    assert list(csv_rows[0]) == list(batch.COLUMNS)
    index = (out / "index.html").read_text()
    assert "http://" not in index and "https://" not in index and "<script" not in index
    for name in (SHORT, HEAD):
        assert f'href="{name}/report.json"' in index
        assert (f'href="{name}/report.html"' in index) == (out / name / "report.html").exists()
    assert 'href="empty/' not in index
    assert "[6/6]" in printed and "faults / error" in printed
    assert not list(out.glob(".*.tmp"))

    # the same command again: complete clips skipped, the broken ones tried (and recorded) again
    assert main(["batch", str(folder), "-o", str(out), "--no-video"]) == batch.EXIT_SOME_FAILED
    again = rows_by_dir(out)
    for name in (SHORT, HEAD, f"again__{SHORT}"):
        assert again[name]["status"] == "skipped"
        assert {k: v for k, v in again[name].items() if k not in ("status", "seconds_taken")} == \
               {k: v for k, v in rows[name].items() if k not in ("status", "seconds_taken")}
    assert_broken_rows(again, folder)

    # what makes a clip 'not done': another profile or model, a changed clip, a missing or newly wanted output
    from formcheck.exercises import candidates

    prof = None                                         # --exercise auto: each clip picks its own profile
    pid = batch.profile_identity(candidates("auto"))    # ... so the shipped profiles of every candidate count
    mid = batch.model_identity(None)
    name = f"again__{SHORT}"

    def job(clip: Path, video=False, html=False, profile_id=pid):
        return batch.ClipJob(clip=str(clip), clip_label=str(clip), out_dir=str(out / name), name=name,
                             profile=prof, model=None, video=video, html=html, profile_id=profile_id)

    clip = folder / "again" / f"{SHORT}.mp4"
    assert batch.done_row(job(clip), mid)["status"] == "skipped"
    assert batch.done_row(job(clip, video=True), mid) is None
    assert batch.done_row(job(clip), {**mid, "sha256": "0" * 64}) is None
    assert batch.done_row(job(clip, profile_id={**pid, "sha256": "1" * 64}), mid) is None
    changed = tmp_path / "changed.mp4"
    data = bytearray(clip.read_bytes())
    data[-1] ^= 0xFF                                    # same size, other content
    changed.write_bytes(bytes(data))
    assert batch.done_row(job(changed), mid) is None
    # killed after report.json but before the done marker: the job marker + report.json still count as done
    done = json.loads((out / name / batch.DONE_MARKER).read_text())
    (out / name / batch.DONE_MARKER).unlink()
    (out / name / batch.JOB_MARKER).write_text(json.dumps({k: v for k, v in done.items()
                                                          if k not in ("row", "outputs", "finished_at")}))
    recovered = batch.done_row(job(clip), mid)
    assert {k: v for k, v in recovered.items() if k != "seconds_taken"} == \
           {k: v for k, v in again[name].items() if k != "seconds_taken"}
    assert (out / name / batch.DONE_MARKER).exists() and not (out / name / batch.JOB_MARKER).exists()
    (out / name / "frames.csv").unlink()
    assert batch.done_row(job(clip), mid) is None


def test_exercise_column_and_a_changed_exercise_choice_redoes_the_clip(tmp_path, capsys):
    import csv

    folder = tmp_path / "clips"
    link_clips(folder, [SHORT])
    out = tmp_path / "out"
    args = ["batch", str(folder), "-o", str(out), "--no-video", "--no-html", "--jobs", "1"]
    assert main(args) == 0                               # --exercise auto: the clip decides (a bench: hip thrust)
    r = rows_by_dir(out)[SHORT]
    assert r["status"] == "ok" and r["exercise"] == "hip_thrust" and r["rocking_fail"] == 0
    assert summary(out)["exercise"] == "auto" and "exercise" in batch.COLUMNS

    # another choice: not 'unchanged', redone; a bench set named a glute bridge is refused with what was seen
    assert main([*args, "--exercise", "glute_bridge"]) == batch.EXIT_SOME_FAILED
    r = rows_by_dir(out)[SHORT]
    assert r["status"] == "error" and "a hip thrust, not a glute bridge" in r["error"]
    assert "a hip thrust, not a glute bridge" in capsys.readouterr().out

    assert main([*args, "--exercise", "hip_thrust"]) == 0     # named right: redone, judged as a hip thrust
    r = rows_by_dir(out)[SHORT]
    assert r["status"] == "ok" and r["exercise"] == "hip_thrust"
    with open(out / "summary.csv", newline="") as fh:
        (c,) = list(csv.DictReader(fh))
    assert c["exercise"] == "hip_thrust" and c["rocking_fail"] == "0"
    assert "hip thrust" in (out / "index.html").read_text()

    assert main([*args, "--exercise", "hip_thrust"]) == 0     # the same choice again: skipped
    assert rows_by_dir(out)[SHORT]["status"] == "skipped"


def _children(pid: int) -> list[tuple[int, str]]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append((int(d.name), cmd))
    return out


def _start_batch(folder: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "GLOG_minloglevel": "2"}
    return subprocess.Popen([sys.executable, "-m", "formcheck.cli", "batch", str(folder), "-o", str(out),
                             "--no-video", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)


def _wait_for(cond, proc: subprocess.Popen, timeout_s: float = 240.0) -> None:
    t0 = time.monotonic()
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"batch ended early ({proc.returncode}): {proc.communicate()}")
        if time.monotonic() - t0 > timeout_s:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_killed_batch_resumes_without_redoing_complete_clips(tmp_path):
    """SIGKILL the whole batch (parent and workers, as a power cut or OOM kill would) once the first clip's
    report.json is in place; the rerun skips the complete clips, finishes the rest, and at no point does an
    incomplete folder hold a report.json."""
    folder = tmp_path / "clips"
    link_clips(folder, [SHORT, HEAD, CLOSE])
    out = tmp_path / "out"
    proc = _start_batch(folder, out, "--jobs", "1")
    _wait_for(lambda: any(out.glob("*/report.json")), proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL

    dirs = [d for d in out.iterdir() if d.is_dir()]
    complete = {d.name for d in dirs if (d / "report.json").exists()}
    assert complete                     # the first clip got its report.json before the kill
    for d in dirs:                      # report.json only ever beside a full set of outputs and its fingerprint
        if d.name in complete:
            assert (d / "frames.csv").exists()
            assert (d / batch.DONE_MARKER).exists() or (d / batch.JOB_MARKER).exists()
    assert len(complete) < 3            # killed part-way
    json.loads((out / "summary.json").read_text())   # the summary on disk is whole, never half-written

    proc = _start_batch(folder, out)
    stdout, stderr = proc.communicate(timeout=400)
    assert proc.returncode == 0, stderr
    rows = rows_by_dir(out)
    assert {n for n, r in rows.items() if r["status"] == "skipped"} == complete
    assert {n for n, r in rows.items() if r["status"] == "ok"} == {SHORT, HEAD, CLOSE} - complete
    for name in (SHORT, HEAD, CLOSE):
        assert_complete(out / name)
    assert faults(json.loads((out / CLOSE / "report.json").read_text())) == [["feet_too_close"]] * 3
    assert "already done and unchanged: skipped" in stdout


# ---------------------------------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_whole_sample_folder_with_broken_files(tmp_path, capsys, sample_eval):
    """Every sample clip through the batch matches what `analyze` gave in the session's evaluation run."""
    folder = tmp_path / "clips"
    clips = sorted(SAMPLES.glob("*.mp4"))
    link_clips(folder, [c.stem for c in clips])
    add_broken(folder / "broken")
    out = tmp_path / "out"
    assert main(["batch", str(folder), "-o", str(out), "--no-video", "--no-html"]) == batch.EXIT_SOME_FAILED
    rows = rows_by_dir(out)
    assert len(rows) == len(clips) + len(BROKEN)
    assert_broken_rows({k.removeprefix("broken__"): v for k, v in rows.items()}, folder / "broken")
    direct = {c["name"]: c for c in sample_eval["clips"]}   # the same `analyze`, run once per session
    assert set(direct) == {c.stem for c in clips}
    for name, ref in direct.items():
        r = rows[name]
        assert r["status"] == "ok", r
        assert r["reps"] == ref["reps"] and r["frames"] == ref["frames"]
        assert faults(assert_complete(out / name)) == ref["faults_by_rep"], name
        assert r["detection_rate"] == ref["detection_rate"]
    assert f"{len(clips)} analysed, 0 skipped (unchanged), 3 failed" in capsys.readouterr().out


@pytest.mark.slow
def test_a_worker_killed_mid_clip_loses_no_clip(tmp_path):
    """The OOM killer takes one worker: the clips it may have held are rerun one at a time, and all finish."""
    folder = tmp_path / "clips"
    link_clips(folder, [SHORT, HEAD])
    out = tmp_path / "out"
    proc = _start_batch(folder, out, "--jobs", "2", "--no-html")
    workers = []

    def two_busy_workers() -> bool:
        workers[:] = [pid for pid, cmd in _children(proc.pid) if "spawn_main" in cmd]
        return len(workers) == 2 and len(list(out.glob("*/.partial-*"))) == 2

    _wait_for(two_busy_workers, proc)
    time.sleep(1.0)
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=400)
    assert proc.returncode == 0, (stdout, stderr)
    assert "a worker process died; retrying" in stderr
    rows = rows_by_dir(out)
    assert {r["status"] for r in rows.values()} == {"ok"}
    assert faults(assert_complete(out / HEAD)) == [[], ["head_back"], ["head_back"]]
    assert_complete(out / SHORT)


# ---------------------------------------------------------------------------------------------------- Ray


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: Ray resolves 127.0.0.1 to the machine's routable address unless it believes it is on a laptop; the second
#: variable keeps every Ray process (and the driver) on the loopback interface. Must be set before `ray` is
#: imported. Token auth with a token of the test's own, so neither ~/.ray/auth_token nor its absence matters.
RAY_LOOPBACK_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
                    "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": ""}


@pytest.fixture(scope="module")
def ray_cluster():
    """A real one-node Ray cluster on the loopback interface only, stopped at teardown."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed (pip install 'formcheck[ray]')")
    import secrets

    saved = {k: os.environ.get(k) for k in RAY_LOOPBACK_ENV}
    os.environ.update({**RAY_LOOPBACK_ENV, "RAY_AUTH_TOKEN": secrets.token_hex(32)})
    ray_bin = Path(sys.executable).with_name("ray")
    port = _free_port()
    env = {**os.environ, "GLOG_minloglevel": "2"}
    start = subprocess.run([str(ray_bin), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
                            "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
                           capture_output=True, text=True, env=env, timeout=180)
    try:
        assert start.returncode == 0, start.stdout + start.stderr
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], capture_output=True, env=env, timeout=120)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _ray_sockets_off_loopback() -> list[str]:
    """TCP sockets of Ray's processes whose local or peer address is not loopback (or a wildcard listener)."""
    import shutil

    if not shutil.which("ss"):
        return []
    lines = subprocess.run(["ss", "-tanpH"], capture_output=True, text=True).stdout.splitlines()
    bad = []
    for ln in lines:
        if not any(k in ln for k in ("raylet", "gcs_server", "ray::", "default_worker")):
            continue
        parts = ln.split()
        for addr in parts[3:5]:
            host = addr.rsplit(":", 1)[0].strip("[]").removeprefix("::ffff:")
            if host not in ("127.0.0.1", "::1", "*", "0.0.0.0", "::") and not host.startswith("127."):
                bad.append(ln)
    return bad


@pytest.mark.slow
@pytest.mark.ray
def test_ray_backend_gives_the_same_summary_as_local(ray_cluster, tmp_path):
    folder = tmp_path / "clips"
    link_clips(folder, [SHORT, HEAD])
    add_broken(folder)
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert main(["batch", str(folder), "-o", str(local), "--no-video", "--no-html"]) == batch.EXIT_SOME_FAILED
    assert main(["batch", str(folder), "-o", str(remote), "--no-video", "--no-html", "--backend", "ray",
                 "--address", ray_cluster]) == batch.EXIT_SOME_FAILED

    def comparable(out: Path) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "seconds_taken"} for r in summary(out)["clips"]]

    assert comparable(remote) == comparable(local)
    assert not _ray_sockets_off_loopback()
    assert summary(remote)["backend"] == "ray"
    for name in (SHORT, HEAD):
        assert faults(assert_complete(remote / name)) == faults(assert_complete(local / name))
    # resume works the same on Ray: nothing complete is redone
    assert main(["batch", str(folder), "-o", str(remote), "--no-video", "--no-html", "--backend", "ray",
                 "--address", ray_cluster]) == batch.EXIT_SOME_FAILED
    rows = rows_by_dir(remote)
    assert rows[SHORT]["status"] == rows[HEAD]["status"] == "skipped"
    assert_broken_rows(rows, folder)
