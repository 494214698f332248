"""The model's landmarks per clip, cached on disk, so a change to geometry, rules or calibration re-scores every
labelled clip in seconds instead of re-running the model (minutes). Keyed by what decides the landmarks: the
clip's bytes (sha256), the model's bytes and the downscale limit. The end-to-end path (`analyze`) never reads it.

The landmarks are those of the picture turned upright as `analyze` turns it (io/orientation_probe.py). The entry
records the probe's settings and decision; an entry made with other settings (or before the probe existed) is
re-probed (a second) and kept when the decision is the same, recomputed when it is not. The camera's drift
(io/camera_motion.py) has its own entry beside them, so a change to its estimate re-reads the frames only.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from formcheck.core.config import OrientationSettings
from formcheck.core.skeleton import N_LANDMARKS
from formcheck.core.types import PoseFrame, VideoInfo

FORMAT = 1


def default_dir() -> Path:
    env = os.environ.get("FORMCHECK_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "formcheck" / "poses"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_key(clip: str | os.PathLike, model_path: str | os.PathLike, max_side_px: int) -> str:
    raw = f"{FORMAT}:{_sha256(Path(clip))}:{_sha256(Path(model_path))}:{max_side_px}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclasses.dataclass(frozen=True)
class CachedClip:
    info: VideoInfo
    poses: list[PoseFrame]
    model: str            # model file name
    decode_warning: str = ""
    orientation_warning: str = ""
    #: the probe's record: settings, min_visibility, rotation_cw_deg (None: an entry from before the probe)
    orientation: dict | None = None


def save(path: Path, clip: CachedClip) -> None:
    n = len(clip.poses)
    t = np.array([p.t_s for p in clip.poses], dtype=float)
    xy = np.stack([p.xy_px for p in clip.poses]) if n else np.zeros((0, N_LANDMARKS, 2))
    vis = np.stack([p.visibility for p in clip.poses]) if n else np.zeros((0, N_LANDMARKS))
    det = np.array([p.detected for p in clip.poses], dtype=bool)
    world = np.stack([p.world_m if p.world_m is not None else np.full((N_LANDMARKS, 3), np.nan)
                      for p in clip.poses]) if n else np.zeros((0, N_LANDMARKS, 3))
    meta = json.dumps({"info": dataclasses.asdict(clip.info), "model": clip.model,
                       "decode_warning": clip.decode_warning, "orientation_warning": clip.orientation_warning,
                       "orientation": clip.orientation, "format": FORMAT})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    os.close(fd)
    np.savez_compressed(tmp, t_s=t, xy_px=xy, visibility=vis, detected=det, world_m=world, meta=np.array(meta))
    os.replace(tmp, path)


def load(path: Path) -> CachedClip | None:
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("format") != FORMAT:
            return None
        t, xy, vis, det, world = z["t_s"], z["xy_px"], z["visibility"], z["detected"], z["world_m"]
    poses = [PoseFrame(float(t[i]), xy[i], vis[i], bool(det[i]),
                       world[i] if det[i] and np.isfinite(world[i]).all() else None) for i in range(len(t))]
    return CachedClip(VideoInfo(**meta["info"]), poses, meta["model"], meta.get("decode_warning", ""),
                      meta.get("orientation_warning", ""), meta.get("orientation"))


def motion_of(clip: str | os.PathLike, cached: CachedClip, key: str, max_side_px: int,
              cache_dir: str | os.PathLike | None = None) -> list[np.ndarray | None]:
    """The camera's drift per frame (io/camera_motion.py: each frame's (2, 3) affine to the first frame's pixels,
    None while still), read as `analyze` reads it: the same upright, downscaled frames, the lifter's landmarks left
    out. Cached beside the landmarks (`key`: theirs), so a change to the estimate does not re-run the model."""
    from formcheck.io.camera_motion import FORMAT as MOTION_FORMAT, CameraMotion, work_image
    from formcheck.io.pose import downscaled
    from formcheck.io.video_file import VideoFile

    rotation = (cached.orientation or {}).get("rotation_cw_deg", 0)
    raw = f"motion:{MOTION_FORMAT}:{key}:{rotation % 360}"
    path = Path(cache_dir or default_dir()) / f"motion-{hashlib.sha256(raw.encode()).hexdigest()[:32]}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            a = z["to_ref_px"]
        return [None if np.isnan(m).any() else m for m in a]
    cam = CameraMotion()
    out: list[np.ndarray | None] = []
    with VideoFile(clip, extra_rotation_cw_deg=rotation) as src:
        size = (src.info.width, src.info.height)
        for i, fr in enumerate(src):
            people = [cached.poses[i].xy_px] if i < len(cached.poses) and cached.poses[i].detected else []
            out.append(cam.update(work_image(downscaled(fr.image, max_side_px)), size, people))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    os.close(fd)
    np.savez_compressed(tmp, to_ref_px=np.array([np.full((2, 3), np.nan) if m is None else m for m in out]
                                                ).reshape(-1, 2, 3))
    os.replace(tmp, path)
    return out


def _with_motion(clip: str | os.PathLike, cached: CachedClip, key: str, max_side_px: int,
                 cache_dir: str | os.PathLike | None) -> CachedClip:
    """The clip's poses with the camera's drift attached frame by frame (frames past the motion's end: still)."""
    motion = motion_of(clip, cached, key, max_side_px, cache_dir)
    poses = [dataclasses.replace(p, to_ref_px=motion[i]) if i < len(motion) and motion[i] is not None else p
             for i, p in enumerate(cached.poses)]
    return dataclasses.replace(cached, poses=poses)


def _orientation_record(settings: OrientationSettings, min_visibility: float, rotation_cw_deg: int) -> dict:
    return {"settings": dataclasses.asdict(settings), "min_visibility": min_visibility,
            "rotation_cw_deg": rotation_cw_deg}


def poses_of(clip: str | os.PathLike, model: str | os.PathLike | None = None, max_side_px: int = 1280,
             cache_dir: str | os.PathLike | None = None, orientation: OrientationSettings | None = None,
             min_visibility: float | None = None) -> CachedClip:
    """The clip's pose per frame (of the upright picture) from the cache, or from the model (then cached).

    orientation, min_visibility: the probe's settings (default: the shipped hip-thrust profile's, which every
    shipped exercise shares).
    """
    from formcheck.io.orientation_probe import probe_orientation
    from formcheck.io.pose import PoseEstimator, resolve_model
    from formcheck.io.video_file import VideoFile

    if orientation is None or min_visibility is None:
        from formcheck.exercises import load_profile

        prof = load_profile()
        orientation = orientation or prof.orientation
        min_visibility = prof.pose.min_visibility if min_visibility is None else min_visibility
    model_path = resolve_model(model)
    key = cache_key(clip, model_path, max_side_px)
    path = Path(cache_dir or default_dir()) / f"{key}.npz"
    hit = load(path)
    if hit is not None:
        rec = hit.orientation
        if rec is not None and rec["settings"] == dataclasses.asdict(orientation) \
                and rec["min_visibility"] == min_visibility:
            return _with_motion(clip, hit, key, max_side_px, cache_dir)
    decision = probe_orientation(clip, orientation, min_visibility, model_path, max_side_px)
    record = _orientation_record(orientation, min_visibility, decision.rotation_cw_deg)
    if hit is not None and decision.rotation_cw_deg == (hit.orientation or {}).get("rotation_cw_deg", 0):
        hit = dataclasses.replace(hit, orientation_warning=decision.warning, orientation=record)
        save(path, hit)                     # the same picture: only the record is brought up to date
        return _with_motion(clip, hit, key, max_side_px, cache_dir)
    src = VideoFile(clip, extra_rotation_cw_deg=decision.rotation_cw_deg)
    with src, PoseEstimator(model_path, max_side_px) as est:
        size = (src.info.width, src.info.height)
        poses = [est.detect(est.model_input(fr.image), fr.t_s, size) for fr in src]
        info = dataclasses.replace(src.info, n_frames=len(poses))
        out = CachedClip(info, poses, Path(model_path).name, src.decode_warning or "", decision.warning, record)
    save(path, out)
    return _with_motion(clip, out, key, max_side_px, cache_dir)
