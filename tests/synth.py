"""Synthetic side-view pose sequences built from angles, so core tests read like tables (no video, no model).

`pose_at(...)` places the near-side joints in the canonical frame (head right, y up) from the same angle
definitions geometry.py measures, then converts to image pixels; the far side sits a few pixels behind with lower
visibility, as in a real side view.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from formcheck.core.config import Profile
from formcheck.core.geometry import KNEE_PIVOT_DEG
from formcheck.exercises import load_profile
from formcheck.core.skeleton import SIDE_JOINTS, LM
from formcheck.core.types import PoseFrame

CAL = load_profile().calibration
TORSO_PX, THIGH_PX, SHIN_PX, NECK_PX, HEAD_PX, FOOT_PX = 150.0, 130.0, 130.0, 45.0, 25.0, 60.0
TOE_AT_PX = np.array([-240.0, -80.0])   # where the planted toe sits (canonical, from the frame centre; y up)


def _dir(deg: float) -> np.ndarray:
    return np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg))])


def pose_at(t_s: float, *, torso_deg: float, hip_deg: float, knee_deg: float = 90.0, neck_ext_deg: float = -25.0,
            heel_lift_px: float = 0.0, shoulder_dx_px: float = 0.0, head_right: bool = True, near: str = "left",
            knee_split_px: float = 4.0, width: int = 640, height: int = 480, planted: bool = False,
            face_down: bool = False, heel_point_drop_px: float = 0.0) -> PoseFrame:
    """One PoseFrame whose *calibrated* measurements are the given angles (so thresholds read as anatomy).

    The chain is built from a fixed hip, so the feet swing through a rep (the toe slides: heel lift is then not
    judged, see `synthetic_profile`). planted=True places the body so the toe stays put instead (the shoulder then
    travels with the leg chain). face_down=True bends the knee the other way, towards the floor (a body face down:
    give it a neck_ext_deg of ~+100 or more, the face turned to the floor). heel_point_drop_px lowers the heel
    point alone (the model leaving it on the floor while the ankle rises: the two heel readings disagree)."""
    raw_hip = hip_deg - CAL.hip_offset_deg
    raw_knee = KNEE_PIVOT_DEG + (knee_deg - CAL.knee_offset_deg - KNEE_PIVOT_DEG) / CAL.knee_scale
    raw_head = CAL.head_neutral_deg - neck_ext_deg
    hip = np.array([0.0, 0.0])
    torso_dir = -torso_deg
    sh = hip + TORSO_PX * _dir(torso_dir) + np.array([shoulder_dx_px, 0.0])
    thigh_dir = torso_dir + raw_hip
    knee = hip + THIGH_PX * _dir(thigh_dir)
    shin_dir = (thigh_dir + 180.0) + (raw_knee if face_down else -raw_knee)
    ankle = knee + SHIN_PX * _dir(shin_dir)
    ear = sh + NECK_PX * _dir(torso_dir)
    eye = ear + HEAD_PX * _dir(torso_dir + raw_head)
    heel = ankle + np.array([8.0, -12.0])
    toe = ankle + np.array([-FOOT_PX, -14.0])
    # calibrated heel lift adds the model's drift back: a rise of heel_lift_px above the rest pose. The foot
    # pivots on the toes, so the ankle rises over the toe by heel_per_ankle_rise times less.
    heel = heel + np.array([0.0, heel_lift_px - heel_point_drop_px])
    toe = toe - np.array([0.0, heel_lift_px / CAL.heel_per_ankle_rise])
    pts = {"shoulder": sh, "hip": hip, "knee": knee, "ankle": ankle, "ear": ear, "eye": eye, "heel": heel,
           "toe": toe, "elbow": sh + np.array([-40.0, 30.0]), "wrist": sh + np.array([-80.0, 40.0])}
    if planted:
        plant = toe - TOE_AT_PX
        pts = {k: v - plant for k, v in pts.items()}
        ear, eye = pts["ear"], pts["eye"]
    xy = np.zeros((33, 2))
    vis = np.full(33, 0.9)
    far = "right" if near == "left" else "left"
    for side, off, v in ((near, 0.0, 0.99), (far, 3.0, 0.6)):
        for role, p in pts.items():
            q = p + np.array([off, off])
            if role == "knee" and side == far:
                q = p + np.array([knee_split_px, 0.0])
            xy[SIDE_JOINTS[side][role]] = q
            vis[SIDE_JOINTS[side][role]] = v
    xy[LM.NOSE] = eye + 10 * _dir(torso_dir + raw_head)
    # canonical -> image: y down, mirrored when the head is on the left; centre in the frame
    img = xy.copy()
    img[:, 1] = -img[:, 1]
    if not head_right:
        img[:, 0] = -img[:, 0]
    img += np.array([width / 2, height / 2])
    return PoseFrame(t_s, img, vis, True)


def rep_profile(t_s: np.ndarray, reps: list[dict], fps: float) -> list[PoseFrame]:
    """A set of reps. Each rep dict: top_torso_deg, top_hip_deg, knee_deg, neck_ext_deg, hold_s, heel_lift_px,
    shoulder_dx_px (at the top), bottom_torso_deg, plus optional overrides; bottom is torso -26 deg (a bench), hip 125 deg.
    Timeline per rep: 0.8 s rest, 0.9 s up, hold, 0.9 s down."""
    frames = []
    t = 0.0
    dt = 1.0 / fps
    segs = []
    for r in reps:
        segs.append((t, r))
        t += 0.8 + 0.9 + r.get("hold_s", 1.2) + 0.9
    total = t + 0.8
    n = int(total * fps)
    for i in range(n):
        ti = i * dt
        s, rep = 0.0, reps[0]
        for t0, r in segs:
            a = ti - t0 - 0.8
            up, hold = 0.9, r.get("hold_s", 1.2)
            if 0 <= a < up:
                s, rep = 0.5 - 0.5 * math.cos(math.pi * a / up), r
            elif up <= a < up + hold:
                s, rep = 1.0, r
            elif up + hold <= a < up + hold + 0.9:
                s, rep = 0.5 + 0.5 * math.cos(math.pi * (a - up - hold) / 0.9), r
            if s > 0:
                break
        frames.append(pose_at(
            ti,
            torso_deg=(b := rep.get("bottom_torso_deg", -26.0)) + s * (rep.get("top_torso_deg", 5.0) - b),
            hip_deg=125 + s * (rep.get("top_hip_deg", 178.0) - 125),
            knee_deg=78 + s * (rep.get("knee_deg", 90.0) - 78),
            neck_ext_deg=-25 + s * (rep.get("neck_ext_deg", -25.0) + 25),
            heel_lift_px=s * rep.get("heel_lift_px", 0.0),
            heel_point_drop_px=s * rep.get("heel_point_drop_px", 0.0),
            shoulder_dx_px=s * rep.get("shoulder_dx_px", 0.0),
            knee_split_px=rep.get("knee_split_px", 4.0),
            head_right=rep.get("head_right", True),
            planted=rep.get("planted", False),
        ))
    return frames


def synthetic_profile(profile: Profile) -> Profile:
    """The profile with the toe-slide check off: these skeletons are built from a fixed hip, so their feet swing
    through a rep as no planted foot does (tests of that check use planted=True or the real profile)."""
    rel = dataclasses.replace(profile.reliability, max_toe_slide_cm=math.inf)
    return dataclasses.replace(profile, reliability=rel)


def _cycles(n_reps: int, hold_s: float, fps: float):
    """(t_s, s) per frame of n_reps cycles: 1.0 s at the start (s = 0), 0.8 s there (s eases to 1), hold_s held, 0.8 s
    back."""
    t = 0.0
    for _ in range(n_reps):
        for seg, dur in (("rest", 1.0), ("up", 0.8), ("hold", hold_s), ("down", 0.8)):
            for i in range(int(dur * fps)):
                a = i / (dur * fps)
                yield t, {"rest": 0.0, "up": 0.5 - 0.5 * math.cos(math.pi * a), "hold": 1.0,
                          "down": 0.5 + 0.5 * math.cos(math.pi * a)}[seg]
                t += 1.0 / fps


def crunch_profile(n_reps: int, *, sit_up_torso_deg: float, fps: float = 30.0, knees_in_deg: float = 0.0,
                   ) -> list[PoseFrame]:
    """Sit-ups or crunches, side-on: lying on the floor, knees bent, feet planted; the torso curls up to
    sit_up_torso_deg (shoulders above the hips) and back down about hips that stay on the floor, so the thigh keeps
    its direction and only the hip angle and the torso change. Per rep: 1.0 s lying, 0.8 s up, 0.4 s held, 0.8 s
    down. knees_in_deg > 0 makes it a reverse crunch: the knees come towards the chest by that much (the thigh
    turns towards the head) while the hips roll up off the floor (sit_up_torso_deg > 0, hips above shoulders)."""
    thigh_dir, lying = 140.0, 2.0
    frames = []
    for t, s in _cycles(n_reps, 0.4, fps):
        torso = lying + s * (sit_up_torso_deg - lying)
        frames.append(pose_at(t, torso_deg=torso, hip_deg=thigh_dir - s * knees_in_deg + torso + CAL.hip_offset_deg,
                              knee_deg=80.0, neck_ext_deg=-25.0 - 20.0 * s))
    return frames


def face_down_profile(n_reps: int, *, torso_from_deg: float, torso_to_deg: float, hip_from_deg: float,
                      hip_to_deg: float, knee_from_deg: float, knee_to_deg: float, neck_ext_deg: float = 120.0,
                      fps: float = 30.0) -> list[PoseFrame]:
    """A movement face down, side-on, whose torso rises as a hip thrust's does: a kneeling push-up (lowering the
    chest: torso -20 -> level, the body straight from knee to shoulder, feet up) or rocking forward on all fours
    from sitting back on the heels (torso -30 -> level, hip 45 -> 95, knee 35 -> 95). Per rep: 1.0 s at the start,
    0.8 s there, 0.4 s held, 0.8 s back."""
    return [pose_at(t, torso_deg=torso_from_deg + s * (torso_to_deg - torso_from_deg),
                    hip_deg=hip_from_deg + s * (hip_to_deg - hip_from_deg),
                    knee_deg=knee_from_deg + s * (knee_to_deg - knee_from_deg), neck_ext_deg=neck_ext_deg,
                    face_down=True)
            for t, s in _cycles(n_reps, 0.4, fps)]


def legs_ride_the_hips(n_reps: int, *, lift_px: float = 80.0, fps: float = 30.0) -> list[PoseFrame]:
    """A hip thrust as the model sees it with its leg points on the plate (mirrored r05): the hips rise lift_px
    over a resting upper back (the torso from -26 deg to about level), but the knees and feet rise with them, so
    the thigh keeps its direction and every limb its length. Per rep: 1.0 s at rest, 0.8 s up, 1.0 s held, 0.8 s
    down."""
    j = SIDE_JOINTS["left"], SIDE_JOINTS["right"]
    legs = [s[r] for s in j for r in ("hip", "knee", "ankle", "heel", "toe")]
    base = pose_at(0.0, torso_deg=-26.0, hip_deg=125.0, knee_deg=80.0, planted=True)
    frames = []
    for t, s in _cycles(n_reps, 1.0, fps):
        xy = base.xy_px.copy()
        xy[legs, 1] -= s * lift_px                # image y points down: the legs go up
        frames.append(PoseFrame(t, xy, base.visibility.copy(), True))
    return frames


def raise_leg(frames: list[PoseFrame], side: str, lift_deg: float = 25.0) -> list[PoseFrame]:
    """The same reps done on one leg: `side`'s leg is held out straight, lift_deg above the line of the torso,
    while the other stays planted (a single-leg hip thrust; the near side is "left" in `pose_at`)."""
    out = []
    j = SIDE_JOINTS[side]
    for p in frames:
        xy = p.xy_px.copy()
        c = xy * np.array([1.0, -1.0])                  # image -> y up (the head is on the right in these sets)
        hip, sh = c[j["hip"]], c[j["shoulder"]]
        torso_dir = math.degrees(math.atan2(sh[1] - hip[1], sh[0] - hip[0]))
        d = _dir(torso_dir + 180.0 - lift_deg)
        knee = hip + THIGH_PX * d
        ankle = knee + SHIN_PX * d
        pts = {"knee": knee, "ankle": ankle, "heel": ankle - 10.0 * _dir(torso_dir + 90.0 - lift_deg),
               "toe": ankle + 50.0 * _dir(torso_dir + 90.0 - lift_deg)}
        for role, q in pts.items():
            xy[j[role]] = q * np.array([1.0, -1.0])
        out.append(PoseFrame(p.t_s, xy, p.visibility.copy(), True))
    return out
