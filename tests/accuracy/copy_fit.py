"""Copy the all-rendered fit of tests/accuracy/metrics.json (calibration and bands) into the shipped hip-thrust
profile, in place, leaving its comments alone: the product ships the fit the real clips are scored with
(`make eval` runs this after `formcheck eval`; tests/test_accuracy.py checks they agree).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "src" / "formcheck" / "exercises" / "hip_thrust" / "profile.toml"


def main() -> None:
    fit = json.loads((ROOT / "tests" / "accuracy" / "metrics.json").read_text())["fits"]["all rendered"]
    lines = PROFILE.read_text().split("\n")
    section, seen = "", set()
    for i, line in enumerate(lines):
        head = re.match(r"^\[([\w.]+)\]", line)
        if head:
            section = head.group(1)
            continue
        kv = re.match(r"^(\w+) = [-+0-9.eE]+(.*)$", line)
        if not kv:
            continue
        key, rest = kv.groups()
        if section == "calibration" and key in fit["calibration"]:
            value = fit["calibration"][key]
        elif section.startswith("rules.") and key.startswith("band_") and section[6:] in fit["bands"]:
            value = fit["bands"][section[6:]]
        else:
            continue
        lines[i] = f"{key} = {float(value)!r}{rest}"
        seen.add(key if section == "calibration" else section[6:])
    missing = (set(fit["calibration"]) | set(fit["bands"])) - seen
    if missing:
        raise SystemExit(f"profile.toml has no line for {sorted(missing)}: add them, then re-run")
    PROFILE.write_text("\n".join(lines))
    print(f"copied the all-rendered fit into {PROFILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
