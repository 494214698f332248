"""The 33 MediaPipe/BlazePose landmarks as data: names, left/right partners, drawing edges."""
from __future__ import annotations

from enum import IntEnum


class LM(IntEnum):
    """BlazePose landmark indices (the order PoseLandmarker returns)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


N_LANDMARKS = 33

#: Joints of one body side, by role, so geometry can ask for "the near knee" without caring which side it is.
SIDE_JOINTS: dict[str, dict[str, LM]] = {
    "left": {
        "ear": LM.LEFT_EAR, "eye": LM.LEFT_EYE, "shoulder": LM.LEFT_SHOULDER, "elbow": LM.LEFT_ELBOW,
        "wrist": LM.LEFT_WRIST, "hip": LM.LEFT_HIP, "knee": LM.LEFT_KNEE, "ankle": LM.LEFT_ANKLE,
        "heel": LM.LEFT_HEEL, "toe": LM.LEFT_FOOT_INDEX,
    },
    "right": {
        "ear": LM.RIGHT_EAR, "eye": LM.RIGHT_EYE, "shoulder": LM.RIGHT_SHOULDER, "elbow": LM.RIGHT_ELBOW,
        "wrist": LM.RIGHT_WRIST, "hip": LM.RIGHT_HIP, "knee": LM.RIGHT_KNEE, "ankle": LM.RIGHT_ANKLE,
        "heel": LM.RIGHT_HEEL, "toe": LM.RIGHT_FOOT_INDEX,
    },
}

#: Bones drawn for one side (role pairs); the overlay draws the near side bold and the far side thin.
SIDE_EDGES: tuple[tuple[str, str], ...] = (
    ("ear", "shoulder"), ("shoulder", "elbow"), ("elbow", "wrist"), ("shoulder", "hip"),
    ("hip", "knee"), ("knee", "ankle"), ("ankle", "heel"), ("heel", "toe"), ("ankle", "toe"),
)
