"""Nested cross-validation of one profile value: how the README's chosen hyper-parameters were picked.

    python bench/nested_cv.py smoothing.drive_cutoff_hz 0.5 0.8 1.0 1.5
    python bench/nested_cv.py reliability.max_world_limb_spread 0 0.1 0.15 0.2 0.25

For each value, `formcheck eval`'s cross-validation (crossval.cross_validate, grouped 5-fold over the rendered clips,
every fitted number fitted inside the folds) gives each clip a held-out score. Then each outer fold takes the value
with the best objective on the other four folds' clips and is scored with it:
J = fault recall + judged share + share of exact rep counts - 3 x false-alarm rate. Prints each value's figures
(rendered and real) and the nested figure. Needs ../shared beside the repository; uses the landmark cache.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import formcheck.apps.crossval as cv
from formcheck.exercises import candidates as _candidates

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def objective(p: dict) -> float:
    return (p["fault_recall"] or 0) + p["judged_share"] + p["rep_count_exact_share"] - 3 * (p["false_alarm_rate"] or 0)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or "." not in argv[0]:
        print("usage: python bench/nested_cv.py section.key VALUE VALUE ...", file=sys.stderr)
        return 2
    section, key = argv[0].split(".", 1)
    values = argv[1:]
    clips = cv.labelled_clips([SHARED / "sample_videos", SHARED / "train_videos", SHARED / "real_clips"])
    fold_of = cv.folds([c for c in clips if c.rendered], 5)
    score_clip = cv.score_clip
    per_value: dict[str, dict[str, dict]] = {}
    try:
        for v in values:
            def cands(ex, v=v):
                out = []
                for e, p in _candidates(ex):
                    sec = getattr(p, section)
                    out.append((e, dataclasses.replace(p, **{section: dataclasses.replace(
                        sec, **{key: type(getattr(sec, key))(v)})})))
                return out
            scored: list[dict] = []
            cv.candidates = cands
            cv.score_clip = lambda a, c, e="", scored=scored: scored.append(score_clip(a, c, e)) or scored[-1]
            cv.cross_validate(clips)
            per_value[v] = {s["name"]: s for s in scored}
    finally:
        cv.candidates, cv.score_clip = _candidates, score_clip
    for v in values:
        p = cv.pooled([per_value[v][n] for n in fold_of])
        r = cv.pooled([s for s in per_value[v].values() if s["source"] == "real"])
        print(f"{argv[0]}={v}: recall {p['fault_recall']:.4f} FA {p['false_alarm_rate']:.4f} judged "
              f"{p['judged_share']:.4f} exact {p['rep_count_exact']}/{p['clips']} hidden {p['passed_though_hidden']} | "
              f"real FA {r['false_alarm_rate']} exact {r['rep_count_exact']}/{r['clips']}  J={objective(p):.4f}")
    chosen, nested = {}, []
    for f in sorted(set(fold_of.values())):
        inner = [n for n, ff in fold_of.items() if ff != f]
        chosen[f] = max(values, key=lambda v: objective(cv.pooled([per_value[v][n] for n in inner])))
        nested += [per_value[chosen[f]][n] for n, ff in fold_of.items() if ff == f]
    p = cv.pooled(nested)
    print(f"nested: chosen per fold {chosen}; recall {p['fault_recall']:.4f} FA {p['false_alarm_rate']:.4f} judged "
          f"{p['judged_share']:.4f} exact {p['rep_count_exact']}/{p['clips']} hidden {p['passed_though_hidden']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
