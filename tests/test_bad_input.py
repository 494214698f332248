"""Bad input: one clear line, a distinct non-zero exit, no traceback, nothing half-written left behind."""
from __future__ import annotations

import numpy as np
import pytest

from formcheck.cli import main
from formcheck.io.video_file import VideoFile
from formcheck.io.video_writer import H264Writer
from conftest import SAMPLES


def run(capsys, *args):
    code = main(["analyze", *map(str, args)])
    err = capsys.readouterr().err.strip()
    return code, err


def assert_clean_failure(code, err, out_dir, pattern):
    assert code != 0
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("formcheck: error: ")
    assert pattern in err
    assert not (out_dir / "report.json").exists()
    assert not list(out_dir.glob(".partial-*")) if out_dir.exists() else True


def test_missing_file(tmp_path, capsys):
    code, err = run(capsys, tmp_path / "nope.mp4", "-o", tmp_path / "o")
    assert_clean_failure(code, err, tmp_path / "o", "no such file")


def test_empty_file(tmp_path, capsys):
    f = tmp_path / "empty.mp4"
    f.write_bytes(b"")
    code, err = run(capsys, f, "-o", tmp_path / "o")
    assert_clean_failure(code, err, tmp_path / "o", "empty")


def test_not_a_video(tmp_path, capsys):
    f = tmp_path / "notes.mp4"
    f.write_text("these are my training notes, not a video\n" * 50)
    code, err = run(capsys, f, "-o", tmp_path / "o")
    assert_clean_failure(code, err, tmp_path / "o", "not a readable video")


def test_truncated_file(tmp_path, capsys):
    data = (SAMPLES / "dev13_clean_60fps.mp4").read_bytes()
    f = tmp_path / "cut.mp4"
    f.write_bytes(data[: len(data) // 3])
    code, err = run(capsys, f, "-o", tmp_path / "o")
    assert_clean_failure(code, err, tmp_path / "o", str(f))


def _write_clip(path, frames, fps=30.0):
    h, w = frames[0].shape[:2]
    wr = H264Writer(path, w, h, fps)
    for i, img in enumerate(frames):
        wr.write(img, i / fps)
    wr.close()


def test_no_person(tmp_path, capsys):
    f = tmp_path / "wall.mp4"
    _write_clip(f, [np.full((240, 320, 3), 180, np.uint8)] * 30)
    code, err = run(capsys, f, "-o", tmp_path / "o", "--no-video")
    assert_clean_failure(code, err, tmp_path / "o", "no person found")


def test_no_reps(tmp_path, capsys):
    with VideoFile(SAMPLES / "dev01_clean_bw.mp4") as v:   # the first 0.7 s: lying still before rep 1
        frames = [fr.image for fr, _ in zip(v, range(21))]
    f = tmp_path / "still.mp4"
    _write_clip(f, frames)
    code, err = run(capsys, f, "-o", tmp_path / "o", "--no-video")
    assert_clean_failure(code, err, tmp_path / "o", "no complete hip-thrust rep")


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    code, err = run(capsys, SAMPLES / "dev13_clean_60fps.mp4", "-o", blocker / "out")
    assert code != 0 and "cannot write to" in err and len(err.splitlines()) == 1


def test_bad_model_and_profile(tmp_path, capsys):
    bad = tmp_path / "broken.task"
    bad.write_bytes(b"not a model")
    code, err = run(capsys, SAMPLES / "dev13_clean_60fps.mp4", "-o", tmp_path / "o", "--model", bad)
    assert code != 0 and "could not be loaded" in err and "--model" in err
    code, err = run(capsys, SAMPLES / "dev13_clean_60fps.mp4", "--profile", tmp_path / "none.toml")
    assert code != 0 and "profile" in err and "not found" in err


def test_corrupt_default_model_is_caught_by_checksum(tmp_path, monkeypatch):
    import formcheck.io.pose as pose
    from formcheck.core.errors import ModelError

    fake = tmp_path / "pose_landmarker_full.task"
    fake.write_bytes(b"corrupt")
    monkeypatch.setenv("FORMCHECK_MODEL", str(fake))
    with pytest.raises(ModelError, match="corrupt.*git checkout"):
        pose.resolve_model(None)


def test_models_by_name():
    import formcheck.io.pose as pose
    from formcheck.core.errors import ModelError

    for name in ("lite", "full", "heavy"):
        assert pose.resolve_model(name).name == f"pose_landmarker_{name}.task"
    with pytest.raises(ModelError, match="lite\\|full\\|heavy"):
        pose.resolve_model("medium")
