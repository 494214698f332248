"""An exercise as data: its rules, cues, drive signal, displayed angles and profile. Pure: no video, no model.

Everything that names a rule (cue groups, voice order, overlay joints, plots, CSV columns, profile keys, the
evaluation's rule list) is derived from an `Exercise`, so a second exercise is a new spec, not edits in a dozen
modules. The specs themselves live in `formcheck.exercises`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Literal, Mapping

if TYPE_CHECKING:  # pragma: no cover
    from formcheck.core.config import Profile
    from formcheck.core.types import RepWindow

Bound = Literal["max", "min"]
#: what a rule's metric needs to be trusted: "legs" (knee, ankle, heel), "hips" (the hip joint), "drive" (a
#: steady drive signal: times read from it), "feet" (foot points that stay where the foot is planted)
Need = Literal["legs", "hips", "drive", "feet"]


@dataclass(frozen=True)
class Rule:
    """One check on a rep: `metric` (a key of the rep's metrics) must stay on the good side of one bound.

    `key` names the bound in the profile (`[rules.<id>] <key> = value`), `bound` says which side fails:
    "max" fails above it, "min" below it. `valid` names the metric whose validity / spread figures decide
    whether the rule can be judged on a rep (default: the metric itself). `confirm` names a second measure of the
    same quantity from other landmarks: past the band, the rep fails only when that one is past it too, else the
    two disagree by more than the band and the verdict is borderline.
    """

    id: str
    metric: str
    unit: str                    # "deg", "s", "cm", "torso" (torso lengths)
    bound: Bound
    key: str                     # profile key of the threshold, unit in its name
    needs: frozenset[str]        # subset of {"legs", "hips", "drive", "feet"}
    cue_short: str               # what the voice says ("chin down")
    cue_long: str                # one sentence for the lifter
    group: str                   # the cue a coach looks at ("knee at lockout", "head", ...)
    joint: str                   # overlay joint whose label turns red ("knee", "hip", "ear", "shoulder", "heel")
    valid: str = ""
    confirm: str = ""

    @property
    def valid_key(self) -> str:
        return self.valid or self.metric

    @property
    def band_key(self) -> str:
        """Profile key of the uncertainty band beyond the threshold where a value is only borderline."""
        return f"band_{'frac' if self.unit == 'torso' else self.unit}"

    def fails(self, value: float, threshold: float) -> bool:
        return value > threshold if self.bound == "max" else value < threshold

    def bounds(self, threshold: float) -> tuple[float | None, float | None]:
        """(lo, hi) of the good range as numbers."""
        return (None, threshold) if self.bound == "max" else (threshold, None)

    def expected(self, threshold: float) -> str:
        return f"{'<=' if self.bound == 'max' else '>='} {threshold:g}"


@dataclass(frozen=True)
class PlotSpec:
    """One angle chart of the report: a frames.csv column with the rules whose verdicts colour it."""

    key: str
    column: str
    title: str
    rule_ids: tuple[str, ...]
    caption: str


#: rep metrics + findings from one rep's frames (the exercise's features and rules)
Judge = Callable[["RepWindow", "Profile", "Exercise"], tuple[dict, tuple]]


@dataclass(frozen=True)
class Exercise:
    """One exercise. `rules` in report order; `voice_order` lists rule ids, most important first."""

    name: str
    title: str
    rules: tuple[Rule, ...]
    drive: str                   # FrameFeatures field the rep segmenter follows
    drive_sign: int              # +1: a rep raises the drive signal, -1: lowers it
    display: tuple[str, ...]     # FrameFeatures angle fields shown on the overlay and in frames.csv
    plots: tuple[PlotSpec, ...]
    voice_order: tuple[str, ...]
    profile_resource: str        # package-relative path of the shipped profile TOML
    judge: Judge
    setup_hint: str              # what the set-up check tells someone who is not in position

    def __post_init__(self) -> None:
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.name}: duplicate rule ids {ids}")
        unknown = sorted(set(self.voice_order) - set(ids) | {i for p in self.plots for i in p.rule_ids} - set(ids))
        if unknown:
            raise ValueError(f"{self.name}: voice_order/plots name unknown rules {unknown}")
        if self.drive_sign not in (1, -1):
            raise ValueError(f"{self.name}: drive_sign must be +1 or -1, got {self.drive_sign}")

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"{self.name} has no rule {rule_id!r}; valid: {', '.join(self.rule_ids)}")

    # Derived views, computed once per spec (the overlay asks for them on every frame).
    @cached_property
    def cues(self) -> dict[str, tuple[str, str]]:
        """rule id -> (short voice cue, one sentence)."""
        return {r.id: (r.cue_short, r.cue_long) for r in self.rules}

    @cached_property
    def cue_groups(self) -> dict[str, tuple[str, ...]]:
        """cue name -> rule ids, in rule order."""
        return self._group_by("group")

    @cached_property
    def joint_rules(self) -> dict[str, tuple[str, ...]]:
        """overlay joint -> rule ids whose failure turns its label red."""
        return self._group_by("joint")

    def _group_by(self, attr: str) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for r in self.rules:
            out[getattr(r, attr)] = out.get(getattr(r, attr), ()) + (r.id,)
        return out

    @property
    def threshold_keys(self) -> Mapping[str, tuple[str, ...]]:
        """rule id -> the keys its `[rules.<id>]` profile table may hold (threshold, band)."""
        return {r.id: (r.key, r.band_key) for r in self.rules}
