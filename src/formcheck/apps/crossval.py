"""Cross-validated accuracy: everything fitted from data is fitted on some clips and scored on others.

What is fitted (per fold, on the training clips only): the calibration offsets that turn MediaPipe's points into
anatomical angles (knee, hip, head neutral), the heel drift and the hold lag: each the median of truth minus the
raw measurement over the training reps where it was judged. Clips are the groups: a clip's reps are never split
between training and scoring. Real clips (labels by eye, no angle truth) are never fitted on: they are scored with
the fit of all rendered clips, so their figures are held-out by construction.

Runs on cached landmarks (`io.pose_cache`): the model runs once per clip; a fold is a replay of the tracker.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from formcheck.apps.evaluate import match_reps
from formcheck.apps.rescore import analysis_from_poses
from formcheck.core.config import Calibration, Profile
from formcheck.core.errors import FormcheckError
from formcheck.core.exercise import Exercise
from formcheck.core.geometry import KNEE_PIVOT_DEG
from formcheck.exercises import EXERCISES, candidates
from formcheck.io.pose_cache import CachedClip, poses_of

HIDDEN_PLATE_RADIUS_M = 0.21   # 45 cm plates (radius 0.225 m); 40 cm plates leave the hip joint in view often enough to judge it
#: calibration field -> (rep metric, truth key, sign): calibrated = raw + sign * field
FITTED = {
    "knee_offset_deg": ("knee_deg", "knee_deg_at_lockout", +1),
    "hip_offset_deg": ("hip_deg", "hip_deg_at_lockout", +1),
    "head_neutral_deg": ("neck_ext_deg", "neck_ext_deg", +1),
    "heel_drift_cm": ("heel_lift_cm", "heel_lift_cm", -1),
    "hold_lag_s": ("hold_s", "hold_s", -1),
}
#: scale field -> (the offset fitted with it, the pivot the scale turns about): calibrated = pivot + scale * (raw -
#: pivot) + offset
SCALES = {"knee_scale": ("knee_offset_deg", KNEE_PIVOT_DEG)}
#: the rules whose metric a calibration field moves (their findings say whether the metric was judged)
JUDGED_BY = {"knee_deg": "feet_too_far", "hip_deg": "partial_lockout", "neck_ext_deg": "head_back",
             "heel_lift_cm": "heel_lift", "hold_s": "no_pause"}
#: rep metric -> truth key, for the uncertainty bands (every rule's metric)
BAND_TRUTH = {"knee_deg": "knee_deg_at_lockout", "hip_deg": "hip_deg_at_lockout", "neck_ext_deg": "neck_ext_deg",
              "hold_s": "hold_s", "shoulder_travel_frac": "shoulder_travel_frac", "heel_lift_cm": "heel_lift_cm"}
#: the band is this quantile of the calibrated measure's absolute error on the training reps
BAND_QUANTILE = 0.5
#: added to the fitted band where renders are known not to speak for real bodies: MediaPipe's hip point sits
#: differently on a rendered and a real body (renders read the hip ~7 deg open, real clean lockouts ~5-8 deg
#: closed), so a hip verdict needs that much more margin before it is called a fault. Real holds read short: r11's
#: six tops (0.5-0.7 s by eye) read 0.43-0.50 s where renders read +0.03 s long, so a hold needs 0.05 s more.
DOMAIN_GAP = {"hip_deg": 4.0, "hold_s": 0.05}
VERDICT_KEYS = ("tp", "fp", "fn", "tn", "borderline_fault", "borderline_clean", "not_judged", "pass_hidden")


@dataclass
class LabelledClip:
    name: str
    path: Path
    truth: dict
    source: str                       # "sample", "train", "real"
    conditions: dict[str, str] = field(default_factory=dict)

    @property
    def rendered(self) -> bool:
        return not self.truth.get("real_footage", False)

    @property
    def hips_hidden(self) -> bool:
        load = self.truth.get("load") or {}
        if load.get("type") == "barbell" and (load.get("plate_radius_m") or 0) >= HIDDEN_PLATE_RADIUS_M:
            return True
        return "45 cm" in str(self.truth.get("equipment", "")) or "hide the hips" in str(self.truth.get("camera", ""))


def _skin(rgb: Sequence[float] | None) -> str:
    if not rgb:
        return "unknown"
    lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    return "dark" if lum < 100 else "medium" if lum < 170 else "light"


def conditions(truth: dict) -> dict[str, str]:
    """The conditions the README breaks the figures down by."""
    if truth.get("real_footage"):
        cam = truth.get("camera", {})
        return {"footage": "real", "head side": cam.get("head_side", "unknown"),
                "yaw": "15-45 deg" if "oblique" in str(cam.get("view", "")) else "<15 deg"}
    view, load, body = truth.get("view", {}), truth.get("load", {}) or {}, truth.get("body", {})
    yaw = abs(float(view.get("yaw_deg", 0.0)))
    height = float(view.get("height_m", 0.55))
    plate = float(load.get("plate_radius_m") or 0.0) if load.get("type") == "barbell" else 0.0
    holds = [r.get("truth", {}).get("hold_s") for r in truth.get("reps", [])]
    holds = [h for h in holds if h is not None]
    return {
        "footage": "rendered",
        "yaw": "<15 deg" if yaw < 15 else "15-35 deg",
        "camera height": "<0.6 m" if height < 0.6 else "0.6-0.9 m" if height < 0.9 else ">=0.9 m",
        "plates": "none" if plate == 0 else "45 cm" if plate >= HIDDEN_PLATE_RADIUS_M else "small",
        "fps": f"{float(truth.get('fps', 30)):.0f} fps" if float(truth.get("fps", 30)) <= 30 else ">30 fps",
        "skin tone": _skin(body.get("skin")),
        "head side": view.get("head_side", "unknown"),
        "tempo": "unknown" if not holds else "brisk" if statistics.median(holds) < 1.0 else "slow",
    }


def labelled_clips(folders: Iterable[str | Path]) -> list[LabelledClip]:
    out = []
    for folder in folders:
        folder = Path(folder)
        source = "real" if "real" in folder.name else "train" if "train" in folder.name else "sample"
        for tp in sorted(folder.glob("*.truth.json")):
            truth = json.loads(tp.read_text())
            video = truth.get("files", {}).get("video") or truth.get("file") or tp.name.replace(".truth.json", ".mp4")
            out.append(LabelledClip(truth.get("name", tp.stem), tp.with_name(video), truth, source, conditions(truth)))
    return out


def folds(clips: Sequence[LabelledClip], k: int) -> dict[str, int]:
    """clip name -> fold, stable across runs and machines (a hash of the name, balanced by rank)."""
    ranked = sorted(clips, key=lambda c: hashlib.sha256(c.name.encode()).hexdigest())
    return {c.name: i % k for i, c in enumerate(ranked)}


# ------------------------------------------------------------------------------------------------------ fitting

def zero_calibration(profile: Profile) -> Profile:
    cal = dataclasses.replace(profile.calibration, **{k: 0.0 for k in FITTED}, **{k: 1.0 for k in SCALES})
    return dataclasses.replace(profile, calibration=cal)


def with_calibration(cands: Sequence[tuple[Exercise, Profile]], cal: Calibration) -> list[tuple[Exercise, Profile]]:
    return [(ex, dataclasses.replace(p, calibration=cal)) for ex, p in cands]


def raw_pairs(analysis: dict, clip: LabelledClip) -> dict[str, list[tuple[float, float]]]:
    """calibration field -> (raw measurement, truth) on the clip's matched, judged reps."""
    out: dict[str, list[tuple[float, float]]] = {k: [] for k in FITTED}
    t_reps = clip.truth.get("reps", [])
    for i, j in match_reps(analysis["reps"], t_reps):
        d, t = analysis["reps"][i], t_reps[j].get("truth")
        if not t:
            continue
        verdicts = {f["rule_id"]: f["verdict"] for f in d["findings"]}
        for fld, (metric, tkey, sign) in FITTED.items():
            v, tv = d["metrics"].get(metric), t.get(tkey)
            if v is None or tv is None or verdicts.get(JUDGED_BY[metric], "not_judged") == "not_judged":
                continue
            if clip.hips_hidden and metric != "hold_s":
                continue
            out[fld].append((float(v), float(tv)))
    return out


def theil_sen(x: Sequence[float], y: Sequence[float]) -> float:
    """Median of the pairwise slopes: a line fit that a few wild points (a misread rep) do not tilt."""
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    dx, dy = xa[None, :] - xa[:, None], ya[None, :] - ya[:, None]
    keep = np.triu(np.abs(dx) > 1e-9, 1)
    return float(np.median(dy[keep] / dx[keep])) if keep.any() else 1.0


def fit_calibration(raw_analyses: dict[str, dict], clips: Sequence[LabelledClip], base: Calibration) -> Calibration:
    """Each offset: the median of truth minus raw (sign applied). An offset with a scale (SCALES): the scale is one
    over the Theil-Sen slope of raw against truth about the pivot, the offset the median residual after it."""
    pooled: dict[str, list[tuple[float, float]]] = {k: [] for k in FITTED}
    for c in clips:
        if c.name in raw_analyses and c.rendered:
            for k, v in raw_pairs(raw_analyses[c.name], c).items():
                pooled[k] += v
    fitted: dict[str, float] = {}
    for k, pairs in pooled.items():
        if len(pairs) < 3:
            continue
        raw, truth = np.array(pairs).T
        sign = FITTED[k][2]
        scale = next(((s, pivot) for s, (off, pivot) in SCALES.items() if off == k), None)
        if scale is not None:
            # Raw against truth, inverted (classical calibration): the truth is exact and the error is in the
            # reading, so regressing truth on raw would shrink every reading towards the mean (a slope of r^2
            # too flat) and take the extreme readings a fault is made of back towards the ideal.
            s = round(1.0 / theil_sen(truth - scale[1], raw - scale[1]), 3)
            fitted[scale[0]] = s
            raw = scale[1] + s * (raw - scale[1])
        fitted[k] = round(float(np.median(sign * (truth - raw))), 2)
    return dataclasses.replace(base, **fitted)


def fit_bands(analyses: dict[str, dict], clips: Sequence[LabelledClip], exercise: Exercise) -> dict[str, float]:
    """rule id -> band: BAND_QUANTILE of |measure - truth| over the training clips' judged reps (calibrated
    analyses), plus the known render/real gap of that measure."""
    errs: dict[str, list[float]] = {k: [] for k in BAND_TRUTH}
    for c in clips:
        a = analyses.get(c.name)
        if a is None or not c.rendered:
            continue
        t_reps = c.truth.get("reps", [])
        for i, j in match_reps(a["reps"], t_reps):
            d, t = a["reps"][i], t_reps[j].get("truth") or {}
            judged = {f["rule_id"] for f in d["findings"] if f["verdict"] != "not_judged"}
            for r in exercise.rules:
                v, tv = d["metrics"].get(r.metric), t.get(BAND_TRUTH.get(r.metric, ""))
                if r.id in judged and v is not None and tv is not None and not (c.hips_hidden and r.needs & {"hips", "legs"}):
                    errs[r.metric].append(abs(float(v) - float(tv)))
    out = {}
    for r in exercise.rules:
        e = sorted(errs.get(r.metric, []))
        q = e[min(len(e) - 1, int(BAND_QUANTILE * len(e)))] if e else 0.0
        out[r.id] = round(q + DOMAIN_GAP.get(r.metric, 0.0), 3 if r.unit in ("s", "torso") else 2)
    return out


def with_bands(cands: Sequence[tuple[Exercise, Profile]], bands: dict[str, float]) -> list[tuple[Exercise, Profile]]:
    from formcheck.core.config import Thresholds

    out = []
    for ex, p in cands:
        thr = dict(p.thresholds)
        for r in ex.rules:
            if r.id in bands:
                thr[f"{r.id}.{r.band_key}"] = bands[r.id]
        out.append((ex, dataclasses.replace(p, thresholds=Thresholds(thr))))
    return out


# ------------------------------------------------------------------------------------------------------ scoring

def _empty() -> dict:
    return {k: 0 for k in VERDICT_KEYS}


def score_clip(analysis: dict | None, clip: LabelledClip, error: str = "") -> dict:
    """Per-rule tallies of one clip, the rep count, and the mismatches in words."""
    t_reps = clip.truth.get("reps", [])
    want_ex = clip.truth.get("exercise", "hip_thrust")
    det = (analysis or {}).get("reps", [])
    got_ex = (analysis or {}).get("exercise")
    rules = {r: _empty() for ex in EXERCISES.values() for r in ex.rule_ids}
    out = {"name": clip.name, "source": clip.source, "conditions": clip.conditions, "error": error,
           "reps": len(det), "reps_truth": len(t_reps), "exercise": got_ex, "exercise_truth": want_ex,
           "rules": rules, "mismatches": [], "faults_by_rep": [d.get("faults", []) for d in det]}
    if det and got_ex != want_ex and want_ex in EXERCISES:
        out["mismatches"].append(f"judged as {got_ex}, is {want_ex}")
    if not t_reps and det:
        out["mismatches"].append(f"{len(det)} rep(s) found in a clip with none of {want_ex}")
    pairs = match_reps(det, t_reps)
    md, mt = {i for i, _ in pairs}, {j for _, j in pairs}
    for i, j in pairs:
        d, t = det[i], t_reps[j]
        labelled = set(t.get("faults", []))
        for f in d["findings"]:
            r, v = f["rule_id"], f["verdict"]
            c = rules[r]
            if v == "not_judged":
                c["not_judged"] += 1
            elif clip.hips_hidden and r != "no_pause" and v == "pass":
                c["pass_hidden"] += 1
                out["mismatches"].append(f"rep {j + 1}: {r} passed though the hips are hidden")
            elif v == "borderline":
                c["borderline_fault" if r in labelled else "borderline_clean"] += 1
            elif v == "fail":
                c["tp" if r in labelled else "fp"] += 1
                if r not in labelled:
                    out["mismatches"].append(f"rep {j + 1}: false {r} ({f['value']} {f['unit']})")
            else:
                c["fn" if r in labelled else "tn"] += 1
                if r in labelled:
                    out["mismatches"].append(f"rep {j + 1}: missed {r} ({f['value']} {f['unit']})")
    for i, d in enumerate(det):
        if i not in md:
            for f in d["findings"]:
                if f["verdict"] == "fail":
                    rules[f["rule_id"]]["fp"] += 1
                    out["mismatches"].append(f"extra rep at {d['start_s']}s: false {f['rule_id']}")
    for j, t in enumerate(t_reps):
        if j not in mt:
            for r in t.get("faults", []):
                if r in rules:
                    rules[r]["fn"] += 1
            out["mismatches"].append(f"labelled rep {j + 1} not found")
    return out


def pooled(clips: Sequence[dict]) -> dict:
    """The headline figures over a set of scored clips."""
    rules = {}
    for r in {r for c in clips for r in c["rules"]}:
        rules[r] = {k: sum(c["rules"][r][k] for c in clips) for k in VERDICT_KEYS}
    tot = {k: sum(rc[k] for rc in rules.values()) for k in VERDICT_KEYS}
    faults = tot["tp"] + tot["fn"] + tot["borderline_fault"]
    clean = tot["fp"] + tot["tn"] + tot["borderline_clean"]
    all_rr = faults + clean + tot["not_judged"] + tot["pass_hidden"]
    exact = sum(c["reps"] == c["reps_truth"] for c in clips)
    wrong_ex = sum(bool(c["reps"]) and c["exercise"] != c["exercise_truth"] for c in clips)
    return {
        "clips": len(clips),
        "fault_recall": round(tot["tp"] / faults, 4) if faults else None,
        "false_alarm_rate": round(tot["fp"] / clean, 4) if clean else None,
        "judged_share": round((faults + clean) / all_rr, 4) if all_rr else None,
        "borderline_share": round((tot["borderline_fault"] + tot["borderline_clean"]) / all_rr, 4) if all_rr else None,
        "rep_count_exact": exact,
        "rep_count_exact_share": round(exact / len(clips), 4) if clips else None,
        "passed_though_hidden": tot["pass_hidden"],
        "wrong_exercise": wrong_ex,
        "totals": tot,
        "rules": {r: {**c, "recall": round(c["tp"] / (c["tp"] + c["fn"] + c["borderline_fault"]), 4)
                      if c["tp"] + c["fn"] + c["borderline_fault"] else None,
                      "false_alarm_rate": round(c["fp"] / (c["fp"] + c["tn"] + c["borderline_clean"]), 4)
                      if c["fp"] + c["tn"] + c["borderline_clean"] else None}
                  for r, c in sorted(rules.items())},
    }


# ------------------------------------------------------------------------------------------------------ running

def _analyse(cached: CachedClip, cands) -> tuple[dict | None, str]:
    try:
        return json.loads(json.dumps(analysis_from_poses(cached, cands).to_dict())), ""
    except FormcheckError as e:
        return None, str(e)


def cross_validate(clips: Sequence[LabelledClip], *, k: int = 5, exercise: str = "auto", model: str | None = None,
                   cache_dir: str | Path | None = None, fit: bool = True) -> dict:
    """Grouped k-fold over the rendered clips; real clips scored with the fit of all rendered clips.

    fit=False scores the shipped calibration as it is (no fitting): the in-sample figure to compare with.
    """
    base = candidates(exercise)
    prof0 = base[0][1]
    poses = {c.name: poses_of(c.path, model, prof0.pose.max_model_side_px, cache_dir, prof0.orientation,
                              prof0.pose.min_visibility) for c in clips}
    raw = {}
    if fit:
        zero = [(ex, zero_calibration(p)) for ex, p in base]
        raw = {c.name: _analyse(poses[c.name], zero)[0] for c in clips if c.rendered}
        raw = {n: a for n, a in raw.items() if a is not None}
    fold_of = folds([c for c in clips if c.rendered], k)
    rendered = [c for c in clips if c.rendered]
    fits: dict[str, dict] = {}
    scored = []
    for c in clips:
        if fit:
            train = [t for t in rendered if t.name != c.name and (not c.rendered or fold_of[t.name] != fold_of[c.name])]
            key = "all rendered" if not c.rendered else f"fold {fold_of[c.name]}"
            if key not in fits:
                cal = fit_calibration(raw, train, prof0.calibration)
                cal_cands = with_calibration(base, cal)
                calibrated = {t.name: _analyse(poses[t.name], cal_cands)[0] for t in train}
                fits[key] = {"calibration": dataclasses.asdict(cal),
                             "bands": fit_bands(calibrated, train, base[0][0])}
            cands = with_bands(with_calibration(base, Calibration(**fits[key]["calibration"])), fits[key]["bands"])
        else:
            cands = base
        analysis, err = _analyse(poses[c.name], cands)
        scored.append(score_clip(analysis, c, err))
    by_cond: dict[str, dict[str, dict]] = {}
    for cond in sorted({k for c in scored for k in c["conditions"]}):
        values = sorted({c["conditions"].get(cond, "unknown") for c in scored if c["source"] != "real"})
        by_cond[cond] = {v: pooled([c for c in scored if c["source"] != "real"
                                    and c["conditions"].get(cond, "unknown") == v]) for v in values}
    return {
        "k": k, "fitted": fit, "fits": fits,
        "rendered": pooled([c for c in scored if c["source"] != "real"]),
        "sample": pooled([c for c in scored if c["source"] == "sample"]),
        "train": pooled([c for c in scored if c["source"] == "train"]),
        "real": pooled([c for c in scored if c["source"] == "real"]),
        "by_condition": by_cond,
        "clips": [{k2: c[k2] for k2 in ("name", "source", "reps", "reps_truth", "exercise", "exercise_truth",
                                          "error", "faults_by_rep", "mismatches")} for c in scored],
    }


def finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def markdown(m: dict) -> str:
    """The README tables: headline per part, per rule (rendered clips, held-out), per condition, and per clip."""
    out = [f"Cross-validated ({m['k']}-fold grouped by clip over the rendered clips; real clips scored with the fit "
           f"of all rendered clips). Recall and false alarms over judged rep-rules; borderline counts as judged, "
           f"never as a fault.", "",
           "| clips | n | fault recall | false alarms | judged | borderline | rep count exact | passed though hidden "
           "| wrong exercise |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for part in ("rendered", "sample", "train", "real"):
        p = m[part]
        out.append(f"| {part} | {p['clips']} | {_pct(p['fault_recall'])} | {_pct(p['false_alarm_rate'])} | "
                   f"{_pct(p['judged_share'])} | {_pct(p['borderline_share'])} | {p['rep_count_exact']}/{p['clips']} | "
                   f"{p['passed_though_hidden']} | {p['wrong_exercise']} |")
    out += ["", "| rule (rendered, held out) | TP | FP | FN | borderline (fault / clean) | not judged | recall | "
                "false alarms |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r, c in m["rendered"]["rules"].items():
        out.append(f"| {r} | {c['tp']} | {c['fp']} | {c['fn']} | {c['borderline_fault']} / {c['borderline_clean']} | "
                   f"{c['not_judged']} | {_pct(c['recall'])} | {_pct(c['false_alarm_rate'])} |")
    out += ["", "| condition (rendered) | value | clips | recall | false alarms | judged | rep count exact |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for cond, vals in m["by_condition"].items():
        if cond == "footage":
            continue
        for v, p in vals.items():
            out.append(f"| {cond} | {v} | {p['clips']} | {_pct(p['fault_recall'])} | {_pct(p['false_alarm_rate'])} | "
                       f"{_pct(p['judged_share'])} | {p['rep_count_exact']}/{p['clips']} |")
    out += ["", "| clip | reps / labelled | exercise | notes |", "| --- | ---: | --- | --- |"]
    for c in m["clips"]:
        notes = "; ".join(c["mismatches"]) or ("no rep: " + c["error"].split(": ", 1)[-1] if c["error"] else "all correct")
        out.append(f"| {c['name']} | {c['reps']} / {c['reps_truth']} | {c['exercise'] or '-'} | {notes[:300]} |")
    return "\n".join(out) + "\n"
