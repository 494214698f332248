"""The summary files: summary.csv, summary.json and index.html (a Jinja2 template), each replaced atomically."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

from formcheck.apps.batch.jobs import COLUMNS, RULE_IDS, write_json_atomic
from formcheck.exercises import EXERCISES
from formcheck.report.files import write_text_atomic

SUMMARY_SCHEMA = "formcheck-batch/2"   # 2: exercise column; rule counts empty for rules the exercise lacks
#: a clip's outputs the index links to, in this order, with their link text
OUTPUT_LINKS = (("annotated.mp4", "video"), ("report.html", "report"), ("report.json", "json"),
                ("frames.csv", "frames"))


def _csv_text(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in COLUMNS})
    return buf.getvalue()


def counts(rows: list[dict]) -> dict[str, int]:
    c = {"clips": len(rows), "ok": 0, "skipped": 0, "error": 0}
    for r in rows:
        c[r["status"]] += 1
    return c


def _index_clip(out: Path, r: dict) -> dict:
    """A summary row as the index shows it (plain values: the template escapes them)."""
    d = out / r["output_dir"]
    done = r["status"] in ("ok", "skipped")
    ex = EXERCISES.get(r.get("exercise") or "")
    return {"name": r["output_dir"], "clip": str(r["clip"]), "status": r["status"], "error": r["error"] or "",
            "exercise": ex.title.lower() if ex else (r.get("exercise") or ""),
            "reps": "" if r["reps"] is None else r["reps"],
            "faults": [(rule, r[f"{rule}_fail"]) for rule in RULE_IDS if r.get(f"{rule}_fail")],
            "detected": "" if r["detection_rate"] is None else f"{100 * r['detection_rate']:.0f}%",
            "length_s": "" if r["duration_s"] is None else f"{r['duration_s']:.1f}",
            "links": [(f, label) for f, label in OUTPUT_LINKS if done and (d / f).is_file()]}


def index_html(out: Path, rows: list[dict], meta: dict) -> str:
    from formcheck.report.templating import render, static_text

    return render("batch_index.html.j2", css=static_text("batch.css"), counts=counts(rows), meta=meta,
                  clips=[_index_clip(out, r) for r in rows])


def write_summary(out: Path, rows: list[dict], meta: dict) -> None:
    """summary.csv, summary.json and index.html, each replaced atomically."""
    meta = {**meta, "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_text_atomic(out / "summary.csv", _csv_text(rows))
    write_json_atomic(out / "summary.json", {"schema": SUMMARY_SCHEMA, **meta, "counts": counts(rows),
                                             "columns": list(COLUMNS), "clips": rows})
    write_text_atomic(out / "index.html", index_html(out, rows, meta))
