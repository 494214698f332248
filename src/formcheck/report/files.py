"""report.json (schema-versioned), the per-frame CSV, and the terminal summary."""
from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import IO

from formcheck.core.errors import OutputError
from formcheck.core.tracker import FrameState
from formcheck.core.types import VERDICTS, Analysis
from formcheck.exercises import get_exercise

FRAME_COLUMNS = ("frame", "t_s", "detected", "phase", "rep", "knee_deg", "hip_deg", "neck_ext_deg", "torso_deg",
                 "shin_deg", "knee_deg_smooth", "hip_deg_smooth", "neck_ext_deg_smooth")


def _num(x: float, nd: int = 2):
    return "" if x is None or not math.isfinite(x) else round(x, nd)


class FrameCsv:
    """Streams one row per frame (flat memory)."""

    def __init__(self, fh: IO[str]) -> None:
        self._w = csv.writer(fh)
        self._w.writerow(FRAME_COLUMNS)
        self._i = 0

    def write(self, st: FrameState) -> None:
        f = st.feat
        self._w.writerow((self._i, round(st.t_s, 4), int(st.pose.detected), st.phase,
                          st.reps_done + (1 if st.phase in ("up", "top") else 0),
                          _num(f.knee_deg), _num(f.hip_deg), _num(f.neck_ext_deg), _num(f.torso_deg), _num(f.shin_deg),
                          _num(st.smooth["knee_deg"]), _num(st.smooth["hip_deg"]), _num(st.smooth["neck_ext_deg"])))
        self._i += 1


def write_text_atomic(path: Path, text: str) -> None:
    """Write via a temp file + fsync + os.replace: a reader (or a killed run) never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path} ({e.strerror}); check the output folder is writable and has space") from None


def write_json(analysis: Analysis, path: Path) -> None:
    write_text_atomic(path, json.dumps(analysis.to_dict(), indent=1, allow_nan=False, default=_nan_to_none))


def _nan_to_none(o):  # pragma: no cover - json default hook
    return None


def load_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def rule_tally(analysis: Analysis | dict) -> dict[str, dict[str, list[int]]]:
    """rule id -> verdict -> rep numbers, for every rule of the analysis' exercise (an Analysis or its JSON)."""
    d = analysis if isinstance(analysis, dict) else None
    exercise = get_exercise(d.get("exercise", "hip_thrust") if d is not None else analysis.exercise)
    out = {r: {v: [] for v in VERDICTS} for r in exercise.rule_ids}
    for rep in (d["reps"] if d is not None else analysis.reps):
        index = rep["index"] if d is not None else rep.index
        for f in (rep["findings"] if d is not None else rep.findings):
            rule_id, verdict = (f["rule_id"], f["verdict"]) if d is not None else (f.rule_id, f.verdict)
            out.setdefault(rule_id, {v: [] for v in VERDICTS})[verdict].append(index)
    return out


def summary_text(analysis: Analysis) -> str:
    """A short summary for the terminal."""
    v = analysis.video
    exercise = get_exercise(analysis.exercise)
    lines = [f"{Path(v.path).name}: {exercise.title.lower()}, {analysis.n_reps} rep(s), {v.width}x{v.height} @ {v.fps:.2f} fps, "
             f"pose found in {100 * analysis.detection_rate:.0f}% of frames, lifter's {analysis.side} side to camera"]
    for rep in analysis.reps:
        fails = [f for f in rep.findings if f.verdict == "fail"]
        nj = [f.rule_id for f in rep.findings if f.verdict == "not_judged"]
        check = [f"{f.rule_id} ({f.value:g} {f.unit})" for f in rep.findings if f.verdict == "borderline"]
        m = rep.metrics
        knee = m.get("knee_deg")
        hip = m.get("hip_deg")
        head = f"knee {knee:.0f}" if knee is not None else "knee -"
        head += f", hip {hip:.0f}" if hip is not None else ", hip -"
        status = "; ".join(f"{f.rule_id} ({f.value:g} {f.unit})" for f in fails) if fails else "good"
        line = f"  rep {rep.index} [{rep.start_s:5.1f}-{rep.end_s:5.1f}s, hold {rep.hold_s:.1f}s, {head}]: {status}"
        if check:
            line += f"  | check (borderline): {', '.join(check)}"
        if nj:
            line += f"  | not judged: {', '.join(nj)}"
        lines.append(line)
    tally = rule_tally(analysis)
    cues = [f"  - {exercise.cues[r][1]} (reps {', '.join(map(str, t['fail']))})" for r, t in tally.items() if t["fail"]]
    if cues:
        lines.append("What to work on:")
        lines += cues
    for w in analysis.warnings:
        lines.append(f"  note: {w}")
    return "\n".join(lines)


def analysis_from_dict(d: dict) -> Analysis:
    """An Analysis back from its report.json dict (the inverse of Analysis.to_dict; derived keys such as n_reps
    and each rep's faults are dropped, they follow from the rest). For views of a finished set (the web app's
    result page) that need the objects the page builder takes."""
    from dataclasses import fields

    from formcheck.core.types import Finding, Rep, VideoInfo

    def pick(cls, src: dict) -> dict:
        return {f.name: src[f.name] for f in fields(cls) if f.name in src}

    reps = tuple(Rep(**{**pick(Rep, r), "findings": tuple(Finding(**pick(Finding, f)) for f in r["findings"])})
                 for r in d["reps"])
    return Analysis(**{**pick(Analysis, d), "video": VideoInfo(**pick(VideoInfo, d["video"])), "reps": reps,
                       "warnings": tuple(d.get("warnings", ())), "outputs": dict(d.get("outputs", {}))})


def read_json(path: str | Path) -> Analysis:
    """report.json -> Analysis."""
    return analysis_from_dict(load_json(path))
