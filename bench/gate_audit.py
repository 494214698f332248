"""What the "not judged" reasons are worth: the verdict each unjudged rep-rule would have had without them.

    python bench/gate_audit.py

Judged is 68% of rendered rep-rules against the issue's 90%: are the reliability checks too strict? Each rendered
clip is scored with its held-out fold's calibration and bands (tests/accuracy/metrics.json `fits`, the folds of
crossval.folds), once as shipped and once with judge.hidden_reason switched off. Every rep-rule that was
not_judged is then counted by what it would have said against the labels (TP, FP, FN, TN, borderline fault /
clean), per reason family and plate condition. A family whose would-be verdicts are mostly right is too strict;
one that would add false alarms earns its keep. Real clips are left out (no labels per rep-rule beyond "clean").
Needs ../shared beside the repository; uses the landmark cache (the full model).
"""
from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import formcheck.apps.crossval as cv
import formcheck.core.judge as judge
from formcheck.apps.evaluate import match_reps
from formcheck.core.config import Calibration
from formcheck.exercises import candidates
from formcheck.io.pose_cache import poses_of

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

#: Reason families, by a phrase of judge.hidden_reason's text (first match wins).
FAMILIES = (
    ("lost the body", "model lost the body"),
    ("split the near", "near/far legs split"),
    ("knee moved with", "knee rides the hips"),
    ("one leg off", "one leg off the floor"),
    ("too few frames of the hips", "too few limb frames"),
    ("jump by", "limb lengths jump"),
    ("foot's points slide", "toe slides"),
    ("hip point is a guess", "limb lengths jump"),
    ("too few frames of the drive", "too few drive frames"),
    ("jumps from frame", "drive jitter"),
    ("landmarks hidden", "landmarks hidden in the hold"),
    ("unstable", "angle unstable in the hold"),
)
OUTCOMES = ("TP", "FP", "FN", "TN", "bl fault", "bl clean", "still not judged")


def family(reason: str) -> str:
    return next((name for key, name in FAMILIES if key in reason), "other")


def outcome(verdict: str, labelled: bool) -> str:
    return {("fail", True): "TP", ("fail", False): "FP", ("pass", True): "FN", ("pass", False): "TN",
            ("borderline", True): "bl fault", ("borderline", False): "bl clean"}.get((verdict, labelled),
                                                                                   "still not judged")


def main() -> int:
    metrics = json.loads((ROOT / "tests/accuracy/metrics.json").read_text())
    clips = [c for c in cv.labelled_clips([SHARED / "sample_videos", SHARED / "train_videos"]) if c.rendered]
    if not clips:
        print(f"no labelled clips under {SHARED}: put ../shared beside the repository", file=sys.stderr)
        return 2
    fold_of = cv.folds(clips, metrics["k"])
    base = candidates("auto")
    p0 = base[0][1]
    shipped = judge.hidden_reason
    table: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    by_rule: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for c in clips:
        fit = metrics["fits"][f"fold {fold_of[c.name]}"]
        cands = cv.with_bands(cv.with_calibration(base, Calibration(**fit["calibration"])), fit["bands"])
        poses = poses_of(c.path, None, p0.pose.max_model_side_px, None, p0.orientation, p0.pose.min_visibility)
        try:
            judge.hidden_reason = shipped
            gated, _ = cv._analyse(poses, cands)
            judge.hidden_reason = lambda m, rule, profile: ""
            open_, _ = cv._analyse(poses, cands)
        finally:
            judge.hidden_reason = shipped
        if not gated or not open_:
            continue
        if len(gated["reps"]) != len(open_["reps"]):
            print(f"{c.name}: the rep count depends on the reasons ({len(gated['reps'])} vs {len(open_['reps'])}); "
                  f"skipped", file=sys.stderr)
            continue
        truth = c.truth.get("reps", [])
        for i, j in match_reps(gated["reps"], truth):
            labelled = set(truth[j].get("faults", []))
            would = {f["rule_id"]: f for f in open_["reps"][i]["findings"]}
            for f in gated["reps"][i]["findings"]:
                if f["verdict"] != "not_judged":
                    continue
                o = outcome(would[f["rule_id"]]["verdict"], f["rule_id"] in labelled)
                table[(family(f["reason"]), c.conditions.get("plates", "?"))][o] += 1
                by_rule[f["rule_id"]][o] += 1
    print("Unjudged rendered rep-rules (held-out fits) by what they would have said without the reason:\n")
    print("| reason | plates | n | " + " | ".join(OUTCOMES) + " |")
    print("| --- | --- | ---: | " + " | ".join("---:" for _ in OUTCOMES) + " |")
    tot: collections.Counter = collections.Counter()
    for (fam, plates), cnt in sorted(table.items()):
        tot.update(cnt)
        print(f"| {fam} | {plates} | {sum(cnt.values())} | " + " | ".join(str(cnt[o]) for o in OUTCOMES) + " |")
    print(f"| all | | {sum(tot.values())} | " + " | ".join(str(tot[o]) for o in OUTCOMES) + " |")
    print("\n| rule | n | " + " | ".join(OUTCOMES) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in OUTCOMES) + " |")
    for rule, cnt in sorted(by_rule.items()):
        print(f"| {rule} | {sum(cnt.values())} | " + " | ".join(str(cnt[o]) for o in OUTCOMES) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
