"""`formcheck eval DIR`: score the checker against clips with NAME.truth.json beside them.

Scoring rules (so the numbers mean the same thing every run):
- A detected rep matches the labelled rep it overlaps most in time (start..end), one-to-one, greedily by overlap.
- Per rule, on matched reps: fail & labelled = TP, fail & not labelled = FP, pass & labelled = FN. A finding of
  "fail" on an unmatched detected rep is an FP; a labelled fault on an unmatched labelled rep is an FN.
- "not_judged" counts separately, neither right nor wrong, EXCEPT where the label says the hips are hidden
  (barbell with plates of radius >= 0.2 m, i.e. 45 cm plates, which cover the hip joint from the side): there a
  "pass" of a rule that needs the hips is counted as `pass_hidden`, an error, because the checker cannot know.
- Verdicts are read through `report.files.rule_tally`, the same per-rule tally the reports and the batch summary
  use; a clip is scored on the rules of the exercise it was judged as. Whether that exercise is the labelled one
  (truth.json `exercise`) is counted too.
- The clips are analysed in the shared worker pool (`apps.pool`): a clip that kills its worker is recorded as
  an error and the others are still scored.
"""
from __future__ import annotations

import json
import tempfile
from contextlib import closing
from pathlib import Path

import numpy as np

from formcheck.exercises import DEFAULT, EXERCISES
from formcheck.report.files import rule_tally

#: every rule any exercise judges, in spec order (a clip's findings are scored on the rules its exercise has)
RULE_IDS = tuple(dict.fromkeys(r for ex in EXERCISES.values() for r in ex.rule_ids))

HIDDEN_PLATE_RADIUS_M = 0.2
#: rules whose metric needs the hip joint (everything but the hold time, which comes from the drive signal)
NEEDS_HIPS = tuple(dict.fromkeys(r.id for ex in EXERCISES.values() for r in ex.rules if r.needs & {"hips", "legs"}))
ANGLES = (("knee_deg", "knee_deg_at_lockout"), ("hip_deg", "hip_deg_at_lockout"), ("neck_ext_deg", "neck_ext_deg"))


def _analyse_one(args: tuple[str, str | None, str | None, str]) -> dict:
    """Run the real pipeline on one clip (no video, no html) and return its report dict or the error."""
    clip, profile, model, exercise = args
    from formcheck.apps.analyze import analyze
    from formcheck.core.errors import FormcheckError

    with tempfile.TemporaryDirectory(prefix="formcheck-eval-") as tmp:
        try:
            res = analyze(clip, tmp, profile=profile, exercise=exercise, model=model, video=False, html=False)
            return {"ok": True, "report": res.to_dict()}
        except FormcheckError as e:
            return {"ok": False, "error": str(e)}


def _margin(f: dict) -> float | None:
    """How far a value sits from its threshold, in the rule's unit (positive = on the side of its verdict)."""
    v, lo, hi = f.get("value"), f.get("lo"), f.get("hi")
    if v is None or (lo is None) == (hi is None):
        return None
    inside = hi - v if hi is not None else v - lo
    return round(inside if f["verdict"] == "pass" else -inside, 3)


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def match_reps(detected: list[dict], truth: list[dict]) -> list[tuple[int, int]]:
    """(detected index, truth index) pairs, one-to-one, greedy by time overlap (> 0)."""
    cand = sorted(((_overlap(d["start_s"], d["end_s"], t["start_s"], t["end_s"]), i, j)
                   for i, d in enumerate(detected) for j, t in enumerate(truth)), reverse=True)
    used_d, used_t, pairs = set(), set(), []
    for ov, i, j in cand:
        if ov <= 0 or i in used_d or j in used_t:
            continue
        used_d.add(i)
        used_t.add(j)
        pairs.append((i, j))
    return sorted(pairs)


def _tally(report: dict | None) -> dict[str, dict[str, list[int]]]:
    """rule id -> verdict -> positions (0-based) of the detected reps, via report.files.rule_tally."""
    report = report or {}
    reps = [{"index": i, "findings": d["findings"]} for i, d in enumerate(report.get("reps", []))]
    return rule_tally({"exercise": report.get("exercise", DEFAULT), "reps": reps})


def score_clip(report: dict | None, truth: dict, error: str = "") -> dict:
    """Per-clip tallies (raw counts and error lists), merged later by `aggregate`."""
    t_reps = truth["reps"]
    hidden = (truth.get("load", {}).get("type") == "barbell"
              and (truth["load"].get("plate_radius_m") or 0) >= HIDDEN_PLATE_RADIUS_M)
    exercise = (report or {}).get("exercise")
    out = {"name": truth["name"], "n_truth": len(t_reps), "error": error, "hips_hidden": hidden,
           "exercise": exercise, "exercise_truth": truth.get("exercise"),
           "rules": {r: {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "not_judged": 0, "pass_hidden": 0} for r in RULE_IDS},
           "margins": {r: {"fail": [], "pass": []} for r in RULE_IDS},
           "angle_err": {a: [] for a, _ in ANGLES}, "timing_err_s": [], "hold_err_s": []}
    det = (report or {}).get("reps", [])
    out["n_detected"] = len(det)
    out["n_frames"] = (report or {}).get("n_frames", 0)
    out["faults_by_rep"] = [d.get("faults", []) for d in det]
    out["detection_rate"] = (report or {}).get("detection_rate", 0.0)
    truth_of = dict(match_reps(det, t_reps))          # detected position -> labelled position
    tally = _tally(report)
    finding = {(i, f["rule_id"]): (k, f) for i, d in enumerate(det) for k, f in enumerate(d["findings"])}
    notes: list[tuple[tuple, str]] = []               # (sort key, text): detected rep order, then findings order
    if report is not None and out["exercise_truth"] and exercise != out["exercise_truth"]:
        notes.append(((-1,), f"judged as {exercise}, labelled {out['exercise_truth']}"))
    for r, by_verdict in tally.items():
        c = out["rules"][r]
        for verdict, positions in by_verdict.items():
            for i in positions:
                k, f = finding[(i, r)]
                if i not in truth_of:                  # a detected rep no label matches: only its fails count
                    if verdict == "fail":
                        c["fp"] += 1
                        notes.append(((1, i, k), f"unmatched detected rep at {det[i]['start_s']}s: false {r}"))
                    continue
                j = truth_of[i]
                labelled = r in t_reps[j]["faults"]
                if verdict == "not_judged":
                    c["not_judged"] += 1
                    continue
                if hidden and r in NEEDS_HIPS and verdict == "pass":
                    c["pass_hidden"] += 1
                    notes.append(((0, i, k), f"rep {j + 1}: {r} passed though the hips are hidden"))
                    continue
                mg = _margin(f)
                if mg is not None and (verdict == "fail") == labelled:
                    out["margins"][r][verdict].append(mg)
                if verdict == "fail":
                    c["tp" if labelled else "fp"] += 1
                    if not labelled:
                        notes.append(((0, i, k), f"rep {j + 1}: false {r} ({f['value']} {f['unit']})"))
                else:
                    c["fn" if labelled else "tn"] += 1
                    if labelled:
                        notes.append(((0, i, k), f"rep {j + 1}: missed {r} ({f['value']} {f['unit']})"))
    for i, j in sorted(truth_of.items()):
        d, t = det[i], t_reps[j]
        tr = t["truth"]
        for key, tkey in ANGLES:
            v = d["metrics"].get(key)
            rule = {"knee_deg": "feet_too_far", "hip_deg": "partial_lockout", "neck_ext_deg": "head_back"}[key]
            judged = rule in tally and (i in tally[rule]["fail"] or i in tally[rule]["pass"])
            if v is not None and judged and tr.get(tkey) is not None:
                out["angle_err"][key].append(float(v) - float(tr[tkey]))
        out["timing_err_s"] += [d["lockout_start_s"] - t["lockout_start_s"], d["lockout_end_s"] - t["lockout_end_s"]]
        out["hold_err_s"].append(d["hold_s"] - tr["hold_s"])
    matched_truth = set(truth_of.values())
    for j, t in enumerate(t_reps):
        if j not in matched_truth:
            for r in t["faults"]:
                out["rules"][r]["fn"] += 1
            notes.append(((2, j), f"labelled rep {j + 1} not found"))
    out["mismatches"] = [text for _, text in sorted(notes, key=lambda n: n[0])]
    return out


def _stats(errs: list[float]) -> dict:
    if not errs:
        return {"n": 0, "median_abs": None, "p90_abs": None, "bias": None}
    a = np.abs(np.asarray(errs))
    return {"n": len(errs), "median_abs": round(float(np.median(a)), 2), "p90_abs": round(float(np.percentile(a, 90)), 2),
            "bias": round(float(np.mean(errs)), 2)}


def aggregate(clips: list[dict]) -> dict:
    rules = {}
    for r in RULE_IDS:
        c = {k: sum(cl["rules"][r][k] for cl in clips) for k in ("tp", "fp", "fn", "tn", "not_judged", "pass_hidden")}
        c["precision"] = round(c["tp"] / (c["tp"] + c["fp"]), 4) if c["tp"] + c["fp"] else 1.0
        c["recall"] = round(c["tp"] / (c["tp"] + c["fn"]), 4) if c["tp"] + c["fn"] else 1.0
        fails = sum((cl["margins"][r]["fail"] for cl in clips), [])
        passes = sum((cl["margins"][r]["pass"] for cl in clips), [])
        c["closest_correct_fail"] = min(fails) if fails else None   # smallest distance past the threshold
        c["closest_correct_pass"] = min(passes) if passes else None  # smallest distance inside it
        rules[r] = c
    count_err = [abs(cl["n_detected"] - cl["n_truth"]) for cl in clips]
    labelled = [cl for cl in clips if cl.get("exercise_truth")]
    return {
        "n_clips": len(clips),
        "n_reps_truth": sum(cl["n_truth"] for cl in clips),
        "rules": rules,
        "rep_count": {"exact": sum(e == 0 for e in count_err), "clips": len(clips),
                      "mean_abs_error": round(float(np.mean(count_err)), 3) if clips else 0.0},
        "exercise": {"correct": sum(cl["exercise"] == cl["exercise_truth"] for cl in labelled),
                     "clips": len(labelled)},
        "lockout_timing_s": _stats(sum((cl["timing_err_s"] for cl in clips), [])),
        "hold_s": _stats(sum((cl["hold_err_s"] for cl in clips), [])),
        "angles_deg": {k: _stats(sum((cl["angle_err"][k] for cl in clips), [])) for k, _ in ANGLES},
        "clips": [{"name": cl["name"], "reps": cl["n_detected"], "reps_truth": cl["n_truth"],
                   "frames": cl["n_frames"], "faults_by_rep": cl["faults_by_rep"],
                   "detection_rate": cl["detection_rate"], "exercise": cl.get("exercise"),
                   "exercise_truth": cl.get("exercise_truth"), "hips_hidden": cl["hips_hidden"], "error": cl["error"],
                   "mismatches": cl["mismatches"]} for cl in clips],
    }


def evaluate(folder: str | Path, profile: str | None = None, model: str | None = None, jobs: int = 1,
             exercise: str = "auto") -> dict:
    """Analyse every labelled clip in `folder` (in `jobs` worker processes) and score it. Returns the metrics
    dict written by --json. exercise: what to judge the clips as (auto: each clip decides from its set-up)."""
    from formcheck.apps.pool import run_pool

    folder = Path(folder)
    truths = sorted(folder.glob("*.truth.json"))
    items = []
    for tp in truths:
        truth = json.loads(tp.read_text())
        clip = tp.with_name(truth.get("files", {}).get("video") or tp.name.replace(".truth.json", ".mp4"))
        items.append((truth, str(clip)))
    args = [(clip, profile, model, exercise) for _, clip in items]
    by_clip: dict[str, dict] = {}
    outcomes = run_pool(_analyse_one, args, max(1, jobs), key=lambda a: a[0])
    with closing(outcomes):
        for o in outcomes:
            by_clip[o.job[0]] = o.value if o.ok else {"ok": False, "error": o.error}
    results = [by_clip[clip] for _, clip in items]
    clips = [score_clip(r.get("report"), truth, r.get("error", "")) for (truth, _), r in zip(items, results)]
    return aggregate(clips)


def markdown(m: dict) -> str:
    """The README table."""
    rows = ["| rule | TP | FP | FN | precision | recall | not judged | passed though hidden | margin: fail / pass |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r, c in m["rules"].items():
        mf, mp = c.get("closest_correct_fail"), c.get("closest_correct_pass")
        rows.append(f"| {r} | {c['tp']} | {c['fp']} | {c['fn']} | {100 * c['precision']:.0f}% | "
                    f"{100 * c['recall']:.0f}% | {c['not_judged']} | {c['pass_hidden']} | "
                    f"{'-' if mf is None else f'{mf:g}'} / {'-' if mp is None else f'{mp:g}'} |")
    rc = m["rep_count"]
    lines = ["\n".join(rows), "",
             "Margin: how far the closest correctly failed rep lies past the threshold / the closest correctly passed "
             "rep lies inside it, in the rule's unit (deg, s, torso lengths, cm): small numbers mark fragile rules.", "",
             f"Rep count: exact on {rc['exact']}/{rc['clips']} clips, mean absolute error {rc['mean_abs_error']} reps "
             f"({m['n_reps_truth']} labelled reps)."
             + (f" Exercise judged as labelled on {m['exercise']['correct']}/{m['exercise']['clips']} clips."
                if m.get("exercise", {}).get("clips") else ""), "",
             "| measure (matched reps) | n | median abs error | p90 abs error | bias |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for k, s in m["angles_deg"].items():
        lines.append(f"| {k} at lockout (deg) | {s['n']} | {s['median_abs']} | {s['p90_abs']} | {s['bias']} |")
    for k, label in (("lockout_timing_s", "lockout start/end (s)"), ("hold_s", "hold time (s)")):
        s = m[k]
        lines.append(f"| {label} | {s['n']} | {s['median_abs']} | {s['p90_abs']} | {s['bias']} |")
    lines += ["", "| clip | reps / labelled | pose detected | notes |", "| --- | ---: | ---: | --- |"]
    for c in m["clips"]:
        note = c["error"] or "; ".join(c["mismatches"]) or ("hips hidden: hip rules not judged" if c["hips_hidden"] else "all correct")
        lines.append(f"| {c['name']} | {c['reps']} / {c['reps_truth']} | {100 * c['detection_rate']:.0f}% | {note} |")
    return "\n".join(lines) + "\n"
