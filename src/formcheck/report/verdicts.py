"""Verdicts per cue over a set, and the words and numbers the report shows for them. Pure: no markup."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from formcheck.core.types import Analysis, Finding, Rep, Verdict
from formcheck.exercises import get_exercise


@dataclass(frozen=True)
class CueVerdict:
    """One cue (an exercise's cue group) over the set: the coach's 'did they get this right, and on which reps'."""

    name: str
    verdict: Verdict
    fail_reps: tuple[int, ...]
    pass_reps: tuple[int, ...]
    not_judged_reps: tuple[int, ...]
    borderline_reps: tuple[int, ...]
    short_cue: str      # voice cue of the first failing rule ("chin down"), "" when nothing failed
    reasons: tuple[str, ...]  # distinct reasons it was not judged


def _group_verdict(findings: Sequence[Finding]) -> Verdict:
    """A cue fails on a rep if any of its rules fails; it is judged only if every rule could be judged."""
    if any(f.verdict == "fail" for f in findings):
        return "fail"
    if any(f.verdict == "borderline" for f in findings):
        return "borderline"
    if not findings or any(f.verdict == "not_judged" for f in findings):
        return "not_judged"
    return "pass"


def rep_cue(rep: Rep, rule_ids: Iterable[str]) -> tuple[Verdict, list[Finding]]:
    """A rep's verdict on one cue, with the findings behind it."""
    fs = [f for r in rule_ids if (f := rep.finding(r)) is not None]
    return _group_verdict(fs), fs


def cue_verdicts(analysis: Analysis) -> list[CueVerdict]:
    """Set-level verdict per cue, in the exercise's cue order: fail if any rep failed, pass if at least one rep was
    judged and none failed, not judged if no rep could be judged."""
    out = []
    ex = get_exercise(analysis.exercise)
    for name, rule_ids in ex.cue_groups.items():
        by: dict[str, list[int]] = {"fail": [], "borderline": [], "pass": [], "not_judged": []}
        short, reasons = "", []
        for rep in analysis.reps:
            v, fs = rep_cue(rep, rule_ids)
            by[v].append(rep.index)
            if v == "fail" and not short:
                short = next(ex.cues[f.rule_id][0] for f in fs if f.verdict == "fail")
            reasons += [f.reason for f in fs if f.verdict == "not_judged" and f.reason and f.reason not in reasons]
        verdict: Verdict = ("fail" if by["fail"] else "borderline" if by["borderline"] else "pass" if by["pass"]
                            else "not_judged")
        out.append(CueVerdict(name, verdict, tuple(by["fail"]), tuple(by["pass"]), tuple(by["not_judged"]),
                              tuple(by["borderline"]), short, tuple(reasons)))
    return out


# ------------------------------------------------------------------------------------------------- formatting


def _num(x: float, unit: str) -> str:
    if unit == "deg":
        return f"{x:.1f}°" if abs(x - round(x)) > 0.05 else f"{x:.0f}°"
    if unit == "torso":  # shoulder travel as a fraction of the torso length reads better as a percentage
        return f"{100 * x:.0f}%"
    if unit in ("s", "cm"):
        return f"{x:.1f} {unit}"
    return f"{x:g} {unit}".strip()


def fmt_value(value: float | None, unit: str) -> str:
    """A measured value in plain units ('36.6°', '1.1 s', '4% of torso')."""
    if value is None or not math.isfinite(value):
        return "—"
    return _num(value, unit) + (" of torso" if unit == "torso" else "")


def fmt_bounds(lo: float | None, hi: float | None, unit: str) -> str:
    """A good range from its numbers: (75, 105) -> '75–105°', (None, 20) -> '≤ 20°', (0.5, None) -> '≥ 0.5 s'
    (the degree sign once, at the end, so the range reads as one value)."""
    if lo is not None and hi is not None:
        a, z = _num(lo, unit), _num(hi, unit)
        return f"{a.rstrip('°') if unit == 'deg' else a}–{z}"
    if hi is not None:
        return f"≤ {_num(hi, unit)}"
    if lo is not None:
        return f"≥ {_num(lo, unit)}"
    return ""


def findings_bounds(findings: Iterable[Finding]) -> tuple[float | None, float | None]:
    """The range every finding of one metric accepts (the tightest of their lo/hi)."""
    los = [f.lo for f in findings if f.lo is not None]
    his = [f.hi for f in findings if f.hi is not None]
    return (max(los) if los else None), (min(his) if his else None)


def fmt_findings_expected(findings: Sequence[Finding]) -> str:
    """The expected range of findings on one metric, from their numeric bounds; findings without bounds (a
    report.json from before they existed) show their text as written."""
    unit = findings[0].unit if findings else ""
    lo, hi = findings_bounds(findings)
    if lo is None and hi is None:
        return " and ".join(f"{f.expected} {unit}".strip() for f in findings if f.expected)
    return fmt_bounds(lo, hi, unit)


def fmt_expected(expected: Sequence[str], unit: str) -> str:
    """Legacy `expected` strings ('>= 75', '<= 105' -> '75–105°'), for callers that only have the text; the page
    formats the numbers (Finding.lo/hi) with fmt_bounds. Anything but '<= x' / '>= x' is shown as written."""
    los, his = [], []
    for e in expected:
        op, _, num = e.strip().partition(" ")
        try:
            (los if op == ">=" else his if op == "<=" else []).append(float(num))
        except ValueError:
            pass
    if len(los) + len(his) != len(expected):
        return " and ".join(f"{e} {unit}" for e in expected)
    return fmt_bounds(max(los, default=None), min(his, default=None), unit)


def reps_text(reps: Sequence[int]) -> str:
    """(2, 3) -> 'reps 2, 3'."""
    if not reps:
        return ""
    return ("rep " if len(reps) == 1 else "reps ") + ", ".join(map(str, reps))


def capitalised(name: str) -> str:
    """'knee at lockout' -> 'Knee at lockout' (str.capitalize would lower the rest)."""
    return name[:1].upper() + name[1:]
