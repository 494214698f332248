"""Shared fixtures. The real model over every shipped clip runs once per session (slow tests share it)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"


@pytest.fixture(scope="session")
def sample_eval():
    """formcheck's own evaluation of sample_videos/ (real model, real clips): the metrics dict."""
    from formcheck.apps.evaluate import evaluate

    return evaluate(SAMPLES, jobs=2)
