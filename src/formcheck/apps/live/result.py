"""What a live set leaves behind: the Analysis (report.json, the same schema as `analyze`) and how the loop kept
up (live.json)."""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from formcheck.apps.pipeline import with_outputs
from formcheck.core.errors import OutputError
from formcheck.core.types import Analysis
from formcheck.report.files import write_json, write_text_atomic

DEFAULT_OUT_DIR = "formcheck_live"


@dataclass
class LiveStats:
    """How the live loop kept up. Delays are from frame capture to the overlay drawn on it."""

    frames_captured: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0          # captured but never processed: the loop skipped to a newer frame
    frames_paused: int = 0           # taken while paused (shown frozen, not analysed)
    fps_shown: float = 0.0           # processed-and-shown frames per second over the run
    delay_ms_median: float = math.nan
    delay_ms_p95: float = math.nan
    delay_ms_max: float = math.nan
    wall_s: float = 0.0
    setup_ok_at_s: float | None = None   # stream time the set-up check passed (None: skipped or never passed)
    messages: list[str] = field(default_factory=list)       # on-screen messages (set-up advice, no person), in order
    verdicts: list[dict] = field(default_factory=list)      # {t_s, rep, rule_id, cue}: faults as they were called
    spoken: list[dict] = field(default_factory=list)        # {t_s, rule_id, text, wav}
    resets: list[float] = field(default_factory=list)       # stream times of 'r'
    end_reason: str = ""
    record_dropped: int = 0


@dataclass
class LiveResult:
    analysis: Analysis
    stats: LiveStats


def write_outputs(result: LiveResult, out_dir: str | os.PathLike, record_path: Path | None = None) -> Analysis:
    """report.json (the same schema as `analyze`) and live.json (how the loop kept up, what was said) into out_dir.
    Returns the Analysis with its `outputs`."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        outputs = {}
        if record_path is not None:
            outputs["annotated_mp4"] = str(record_path)
        outputs["live_json"] = str(out / "live.json")
        outputs["report_json"] = str(out / "report.json")
        a = with_outputs(result.analysis, outputs)
        write_text_atomic(out / "live.json", json.dumps(asdict(result.stats), indent=1, default=str))
        write_json(a, out / "report.json")   # last (atomic): its presence marks completion
    except OSError as e:
        raise OutputError(f"cannot write the set report to {out} ({e.strerror or e}); pass a writable folder "
                          f"with -o") from None
    return a
