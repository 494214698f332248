"""Planning a batch: a folder name per clip, and which clips are already done (and unchanged)."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Iterable

from formcheck.apps.batch.fingerprint import sha256_file
from formcheck.apps.batch.jobs import (COLUMNS, DONE_MARKER, JOB_MARKER, MARKER_VERSION, ClipJob, empty_row,
                                       row_from_report, write_json_atomic)
from formcheck.core.errors import OutputError


def _safe_part(s: str) -> str:
    s = "".join(ch if ch.isprintable() and ch not in '/\\:*?"<>|' else "_" for ch in s).strip()
    return ("_" + s[1:] if s.startswith(".") else s) or "_"


def output_names(clips: list[Path], roots: Iterable[str]) -> list[str]:
    """A readable, unique folder name per clip, stable for the same command line.

    A clip found under a folder argument is named by its path inside that folder (`sub__clip` for
    sub/clip.mp4); a clip given as a file by its stem. Clips that would share a name get the folders that tell
    them apart prefixed (`a__clip`, `b__clip`), then the extension (`clip_mov`), then a short hash.
    """
    dirs = [Path(os.path.abspath(r)) for r in roots if os.path.isdir(r)]
    absolute = [Path(os.path.abspath(c)) for c in clips]

    def base(a: Path) -> str:
        for d in dirs:
            if a.is_relative_to(d):
                rel = a.relative_to(d)
                return "__".join(_safe_part(p) for p in (*rel.parent.parts, a.stem))
        return _safe_part(a.stem)

    names = [base(a) for a in absolute]
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        groups.setdefault(n, []).append(i)
    for idxs in (g for g in groups.values() if len(g) > 1):
        parents = [absolute[i].parent.parts for i in idxs]
        common = len(os.path.commonprefix(parents))
        for i, pp in zip(idxs, parents):
            extra = [_safe_part(p) for p in pp[common:]]
            names[i] = "__".join([*extra, names[i]])
        if len({names[i] for i in idxs}) < len(idxs):
            for i in idxs:
                names[i] = f"{names[i]}_{_safe_part(absolute[i].suffix.lstrip('.').lower())}"
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    reserved = {"summary", "index"}
    for i, n in enumerate(names):
        if seen[n] > 1 or n.lower() in reserved:
            names[i] = f"{n}-{hashlib.sha1(str(absolute[i]).encode()).hexdigest()[:8]}"
    return names


def _same_inputs(marker: dict, job: ClipJob, model_id: dict) -> bool:
    """Same marker format, exercise choice, profiles, model and clip content (size first: it rules most changes
    out unhashed)."""
    if marker.get("marker_version") != MARKER_VERSION or marker.get("exercise") != job.exercise:
        return False
    if marker["profile"]["sha256"] != job.profile_id["sha256"] or marker["model"]["sha256"] != model_id["sha256"]:
        return False
    st = os.stat(job.clip)
    return st.st_size == marker["clip"]["size_bytes"] and sha256_file(job.clip) == marker["clip"]["sha256"]


def _wanted_outputs(job: ClipJob) -> set[str]:
    return {"report.json", "frames.csv"} | ({"annotated.mp4"} if job.video else set()) | (
        {"report.html"} if job.html else set())


def done_row(job: ClipJob, model_id: dict) -> dict | None:
    """The clip's summary row if its outputs are complete and were computed from the same clip, exercise choice,
    profiles and model (and include what this run asks for), else None.

    Complete means a matching done marker, or (a run killed between report.json and the done marker) a
    matching job marker beside a report.json: the worker deletes any older report.json before writing the job
    marker, and analyze moves report.json in last, so that pair can only mean this attempt finished. Such a
    folder gets its done marker here.
    """
    out = Path(job.out_dir)
    try:
        if (out / DONE_MARKER).is_file():
            marker = json.loads((out / DONE_MARKER).read_text())
            have = set(marker["outputs"])
            if (_wanted_outputs(job) <= have and all((out / n).is_file() for n in have)
                    and _same_inputs(marker, job, model_id)):
                row = {c: marker["row"].get(c) for c in COLUMNS}
            else:
                return None
        elif (out / JOB_MARKER).is_file() and (out / "report.json").is_file():
            marker = json.loads((out / JOB_MARKER).read_text())
            if not (all((out / n).is_file() for n in _wanted_outputs(job)) and _same_inputs(marker, job, model_id)):
                return None
            row = row_from_report(json.loads((out / "report.json").read_text()),
                                  {**empty_row(job.clip_label, job.name), "status": "ok"})
            have = sorted(n for n in ("annotated.mp4", "frames.csv", "report.html", "report.json") if (out / n).is_file())
            write_json_atomic(out / DONE_MARKER, {**marker, "outputs": have, "finished_at": None, "row": row})
            (out / JOB_MARKER).unlink(missing_ok=True)
        else:
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, OutputError):
        return None
    row.update(clip=job.clip_label, output_dir=job.name, status="skipped", error="", seconds_taken=0.0)
    return row


def probe_frames(path: str) -> int:
    """The container's frame count (0 when unknown or unreadable): for the progress bar's time left only."""
    try:
        import av

        with av.open(path) as c:
            s = c.streams.video[0]
            if s.frames:
                return int(s.frames)
            dur = float(s.duration * s.time_base) if s.duration else (c.duration or 0) / 1e6
            return int(round(dur * float(s.average_rate or s.guessed_rate or 30)))
    except Exception:  # noqa: BLE001 - a broken clip is reported by its worker, not here
        return 0
