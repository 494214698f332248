"""Rule engines, one module per exercise. Each exposes RULE_IDS and `judge_rep`."""
from .hip_thrust import RULE_IDS, judge_rep

__all__ = ["RULE_IDS", "judge_rep"]
