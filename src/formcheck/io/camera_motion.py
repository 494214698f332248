"""Camera motion: how far a handheld phone has drifted since the first frame, so the drift is not read as the
lifter moving.

Shoulder travel (rocking) and the toe's slide are positions in the picture. A phone held by a training partner
drifts by 1.5-3% of the frame's width over a rep, and clean reps then read 0.18-0.45 torso lengths of shoulder
travel (threshold 0.15): false rocking on nearly every rep. Each frame is registered to a keyframe (Shi-Tomasi
corners, pyramidal Lucas-Kanade flow, a RANSAC similarity: shift, turn and zoom) and the steps are chained into a
transform to the first frame's pixels; `geometry.features` measures the landmarks there.

Only the background counts: corners on anyone the model found (the lifter, a passer-by) are left out, as their
movement is theirs, not the camera's. And the still camera is the default: a frame counts as moved only when its
transform holds clearly more of the corners than "nothing moved" does, and when no one's planted feet stayed where
they were (a camera that moves carries the feet with the picture; a passer-by, or a picture sliding across the
picture, leaves the lifter's feet in place). Where the background has too few corners (plain render rooms: 22-26)
the camera is taken as still, as before this estimate existed. 1-5 ms a frame on a `WORK_PX` grey copy.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from formcheck.core.skeleton import LM

FORMAT = 1                # bump when the estimate changes: the landmark cache keeps it per clip (io/pose_cache.py)
WORK_PX = 320             # the registration runs on a copy this wide (sub-pixel flow: ~0.1 px of the full frame)
MAX_CORNERS = 400
CORNER_QUALITY = 0.001    # low: a plain room leaves few strong corners once the people's boxes are left out
MIN_CORNERS = 20          # fewer tracked corners than this: no estimate, the camera is taken as still
RANSAC_PX = 0.7           # inlier distance on the work copy; a corner that moved less agrees with "nothing moved"
MIN_GAIN = 1.5            # the transform must hold this many times the corners "nothing moved" holds
REKEY_FRAMES = 15         # a moving camera gets a new keyframe this often
KEEP_FRAC = 0.5           # and so does one whose corners no longer follow the transform (fewer than this share)
FEET = [LM.LEFT_ANKLE, LM.RIGHT_ANKLE, LM.LEFT_HEEL, LM.RIGHT_HEEL, LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX]
PERSON_MARGIN = 0.15      # a person's landmark box, grown by this share of its size each way, has no corners
FEET_TOL_PX = 1.0         # the model's foot points jitter about this much (work copy, ~2 px of a 640 px frame)


def work_image(image_rgb: np.ndarray) -> np.ndarray:
    """The small grey copy the registration runs on."""
    h, w = image_rgb.shape[:2]
    scale = min(1.0, WORK_PX / float(w))
    gray = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return gray


def _background(gray: np.ndarray, frame_size: tuple[int, int], people_xy: Sequence[np.ndarray]) -> np.ndarray:
    """255 where corners may be taken, 0 over each person's grown landmark box (work-copy pixels)."""
    mask = np.full(gray.shape, 255, np.uint8)
    s = gray.shape[1] / float(frame_size[0])
    for xy in people_xy:
        pts = xy[np.isfinite(xy).all(axis=1)] * s
        if len(pts) < 2:
            continue
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        mx, my = PERSON_MARGIN * (x1 - x0), PERSON_MARGIN * (y1 - y0)
        mask[max(0, int(y0 - my)):max(0, int(y1 + my) + 1), max(0, int(x0 - mx)):max(0, int(x1 + mx) + 1)] = 0
    return mask


class CameraMotion:
    """Feed every frame's `work_image` in order, with the landmarks of everyone found on it; `update` returns the
    (2, 3) affine taking this frame's pixels (of the full frame, `frame_size`) to the first frame's.

    Each frame is registered to a keyframe, not to the frame before it: a slow drift (under a pixel a frame) adds
    up against the keyframe until it is measurable, and fewer chained steps drift less. The keyframe moves on after
    `REKEY_FRAMES` frames once the camera has moved, or when its corners are being lost.
    """

    def __init__(self) -> None:
        self._key: np.ndarray | None = None       # the keyframe's grey copy
        self._key_pts: np.ndarray | None = None   # its background corners, (N, 1, 2) float32
        self._key_to_ref = np.eye(3)              # work-copy pixels of the keyframe -> of the first frame
        self._since_key = 0
        self._key_feet: list[np.ndarray] = []     # everyone's foot points on the keyframe (work pixels)
        self.moved = 0                            # frames read as moved from their keyframe (tests, record)

    def update(self, gray: np.ndarray, frame_size: tuple[int, int],
               people_xy: Sequence[np.ndarray] = ()) -> np.ndarray | None:
        """This frame's (2, 3) affine to the first frame's pixels; None while the camera has not moved.
        people_xy: each person's (33, 2) landmarks in frame pixels (NaN where hidden)."""
        s = gray.shape[1] / float(frame_size[0])        # work pixels per frame pixel
        feet = [xy[FEET] * s for xy in people_xy]
        to_ref = self._key_to_ref
        lost, step = False, None
        if self._key is not None and self._key.shape == gray.shape:
            step, lost = self._register(gray, feet)
            if step is not None:
                to_ref = self._key_to_ref @ step
                self.moved += 1
            self._since_key += 1
        # A still frame does not become the keyframe on the schedule: a drift too small to see yet would be lost.
        rekey = lost or (step is not None and self._since_key >= REKEY_FRAMES)
        if self._key is None or self._key.shape != gray.shape or rekey:
            self._key, self._key_to_ref, self._since_key, self._key_feet = gray, to_ref, 0, feet
            self._key_pts = cv2.goodFeaturesToTrack(gray, MAX_CORNERS, CORNER_QUALITY, 6,
                                                    mask=_background(gray, frame_size, people_xy))
        if self.moved == 0:                              # no step yet: to_ref is the identity
            return None
        full = np.diag([1.0 / s, 1.0 / s, 1.0]) @ to_ref @ np.diag([s, s, 1.0])
        return full[:2].copy()

    def _register(self, cur: np.ndarray, feet: list[np.ndarray]) -> tuple[np.ndarray | None, bool]:
        """(3, 3) taking `cur` pixels to the keyframe's, or None when the camera is best taken as still; and
        whether the keyframe's corners are being lost (time for a new keyframe)."""
        p0 = self._key_pts
        if p0 is None or len(p0) < MIN_CORNERS:
            return None, True
        p1, ok, _ = cv2.calcOpticalFlowPyrLK(self._key, cur, p0, None, winSize=(21, 21), maxLevel=3)
        ok = ok.ravel() == 1
        if ok.sum() < MIN_CORNERS:
            return None, True
        a, b = p0[ok].reshape(-1, 2), p1[ok].reshape(-1, 2)
        m, inl = cv2.estimateAffinePartial2D(b, a, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX,
                                             maxIters=500, confidence=0.99, refineIters=10)
        if m is None or inl is None:
            return None, True
        n_in = int(inl.sum())
        lost = n_in < KEEP_FRAC * len(p0)
        still = int((np.hypot(*(b - a).T) < RANSAC_PX).sum())
        if n_in < max(MIN_CORNERS, MIN_GAIN * still):
            return None, lost
        if any(self._feet_stayed(f, m) for f in feet):
            return None, lost           # someone's planted feet stayed put: the picture did not move, a part of it did
        return np.vstack([m, [0.0, 0.0, 1.0]]), lost

    def _feet_stayed(self, feet: np.ndarray, m: np.ndarray) -> bool:
        """Whether a person's foot points (work pixels) sit clearly (FEET_TOL_PX: the model's jitter) closer to where
        they were on the keyframe than to where the transform `m` would have carried them. A lifter's feet are planted: when the camera moves they move
        with the picture; when something else moves (a passer-by, a picture sliding across the picture) they stay."""
        ok = np.isfinite(feet).all(axis=1)
        if ok.sum() < 2 or not self._key_feet:
            return False
        here = np.median(feet[ok], axis=0)
        key = min(self._key_feet, key=lambda k: float(np.hypot(*(np.nanmedian(k, axis=0) - here))))
        both = ok & np.isfinite(key).all(axis=1)
        if both.sum() < 2:
            return False
        still = np.median(np.hypot(*(feet[both] - key[both]).T))
        moved = np.median(np.hypot(*(feet[both] @ m[:, :2].T + m[:, 2] - key[both]).T))
        return bool(still + FEET_TOL_PX < moved)
