"""The only module that imports MediaPipe: PoseLandmarker (Tasks API) in VIDEO mode, one per clip or stream."""
from __future__ import annotations

import contextlib
import hashlib
import math
import os
import sys
import threading
from pathlib import Path

import numpy as np

from formcheck.core.config import PoseSettings, ProfileError
from formcheck.core.errors import ModelError
from formcheck.core.skeleton import N_LANDMARKS
from formcheck.core.types import PoseFrame

#: the bundles shipped in models/, by the name `--model` takes, with their sha256 (checked when loaded by name)
MODELS: dict[str, str] = {
    "lite": "f6c39a376be381e0211982e50ba97a60cdd126f6b469526a0d7c2a5c4001d4cd",
    "full": "1240ae55db760a1cff9f97e6e6926cd74e416752a34989286e92726ad3dbcc61",
    "heavy": "bd61336efea3322cc58c0efe86fd7921c087a1dfdd0b80c078f7e79d1daa39a6",
}
DEFAULT_MODEL = "full"
DEFAULT_MODEL_SHA256 = MODELS[DEFAULT_MODEL]


def models_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "models"


def default_model_path() -> Path:
    """models/pose_landmarker_full.task of the checkout (FORMCHECK_MODEL overrides)."""
    env = os.environ.get("FORMCHECK_MODEL")
    if env:
        return Path(env)
    return models_dir() / f"pose_landmarker_{DEFAULT_MODEL}.task"


_verified: set[str] = set()


def resolve_model(model: str | os.PathLike | None) -> Path:
    """The model file: None = the default, "lite" / "full" / "heavy" = a shipped bundle (sha256-checked), else a
    path to a .task bundle."""
    name = str(model) if model is not None and str(model) in MODELS else (DEFAULT_MODEL if model is None else None)
    path = (default_model_path() if model is None else models_dir() / f"pose_landmarker_{name}.task") if name \
        else Path(model)
    if not path.is_file():
        raise ModelError(f"pose model {path} not found: copy pose_landmarker_{name or 'full'}.task into models/ "
                         f"(see models/README.md) or pass --model lite|full|heavy|PATH")
    if name and str(path) not in _verified:
        h = hashlib.sha256(path.read_bytes()).hexdigest()
        if h != MODELS[name]:
            raise ModelError(f"pose model {path} is corrupt (sha256 {h[:12]}... != {MODELS[name][:12]}...): "
                             f"restore it from git (git checkout -- models/) or pass --model PATH")
        _verified.add(str(path))
    return path


def downscaled(image_rgb: np.ndarray, max_side_px: int) -> np.ndarray:
    """The picture with its longest side at most max_side_px (area-averaged; unchanged when already small)."""
    import cv2

    h, w = image_rgb.shape[:2]
    scale = max_side_px / max(h, w)
    if scale >= 1:
        return image_rgb
    return cv2.resize(image_rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved: int | None = None


@contextlib.contextmanager
def quiet_native_stderr():
    """MediaPipe's C++ side logs set-up and tear-down chatter straight to fd 2 (no Python switch turns it off):
    mute it while the graph is built, warms up and is closed. Python-level errors still raise normally.
    FORMCHECK_DEBUG=1 lets it through. fd 2 is process-wide, so nested or concurrent uses (the orientation probe
    beside the main graphs' set-up) share one mute: the first in saves fd 2, the last out restores it."""
    global _quiet_depth, _quiet_saved
    if os.environ.get("FORMCHECK_DEBUG"):
        yield
        return
    with _quiet_lock:
        if _quiet_depth == 0:
            try:
                saved = os.dup(2)
            except OSError:  # pragma: no cover
                saved = None
            if saved is not None:
                sys.stderr.flush()
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
            _quiet_saved = saved
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_saved is not None:
                os.dup2(_quiet_saved, 2)
                os.close(_quiet_saved)
                _quiet_saved = None


def _landmarker(model_path: Path, mode: str, num_poses: int):
    """(mediapipe module, PoseLandmarker) in running mode "VIDEO" or "IMAGE", built with the native log muted.
    Raises ModelError with what to do when mediapipe is missing or the bundle does not load."""
    try:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as e:  # pragma: no cover
        raise ModelError(f"mediapipe is not installed ({e}): run `make setup`") from None
    opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(model_path)),
                                        running_mode=getattr(vision.RunningMode, mode), num_poses=num_poses)
    try:
        with quiet_native_stderr():
            return mp, vision.PoseLandmarker.create_from_options(opts)
    except (RuntimeError, ValueError) as e:
        raise ModelError(f"pose model {model_path} could not be loaded ({e}); pass a MediaPipe "
                         f"pose_landmarker .task bundle to --model") from None


class _Graph:
    """One PoseLandmarker graph (`self._lm`) released by `close()`; use as a context manager so it always runs."""

    _lm = None

    def close(self) -> None:
        """Release the graph. Its TFLite delegates log "DestroyAccelerator" lines to fd 2 as they go: muted."""
        if self._lm is not None:
            lm, self._lm = self._lm, None
            with quiet_native_stderr():
                lm.close()

    def detect(self, image_rgb: np.ndarray, t_s: float = 0.0, frame_size: tuple[int, int] | None = None
               ) -> PoseFrame:
        """The model's first pose in one upright RGB frame (missing when nobody is in view), landmarks in the full
        frame's pixels. frame_size: (width, height) of the full frame when `image_rgb` is already
        `model_input(frame)`."""
        poses = self.detect_all(image_rgb, t_s, frame_size)
        return poses[0] if poses else PoseFrame.missing(t_s)

    def _input(self, image_rgb: np.ndarray, frame_size: tuple[int, int] | None):
        """(width, height) of the full frame and the model's input picture: `image_rgb` downscaled by
        `model_input`, or taken as already downscaled when frame_size gives the full frame's size."""
        if frame_size is None:
            h, w = image_rgb.shape[:2]
            small = self.model_input(image_rgb)
        else:
            (w, h), small = frame_size, image_rgb
        return w, h, self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(small))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PoseEstimator(_Graph):
    """MediaPipe PoseLandmarker in VIDEO mode. Use as a context manager so `close()` always runs.

    num_poses: how many people the model may return per frame (`detect_all`). With 1 the graph tracks the person
    from the previous frame's landmarks; with more it runs its person detector on every frame until it tracks that
    many, which costs ~1.8x and moves the landmarks (measured, README "Several people"): `PeopleEstimator` below
    keeps a 1-pose graph for the single-person case.
    """

    def __init__(self, model: str | os.PathLike | None = None, max_side_px: int = 960, num_threads: int | None = None,
                 num_poses: int = 1) -> None:
        if num_poses < 1:
            raise ValueError(f"num_poses must be at least 1, got {num_poses}")
        self.model_path = resolve_model(model)
        self.max_side_px = max_side_px
        self.num_poses = num_poses
        self._mp, self._lm = _landmarker(self.model_path, "VIDEO", num_poses)
        self._last_ms = -1
        self._warm = False

    def model_input(self, image_rgb: np.ndarray) -> np.ndarray:
        """The frame as the model should see it: downscaled once if its longest side exceeds max_side_px.

        Separate from `detect` so a pipeline can do it on its decode thread, off the inference path.
        """
        return downscaled(image_rgb, self.max_side_px)

    def detect_all(self, image_rgb: np.ndarray, t_s: float, frame_size: tuple[int, int] | None = None
                   ) -> list[PoseFrame]:
        """Every pose the model found in one frame (at most `num_poses`, none when nobody is in view)."""
        w, h, img = self._input(image_rgb, frame_size)
        t_ms = max(int(round(t_s * 1000)), self._last_ms + 1)  # VIDEO mode needs strictly increasing timestamps
        self._last_ms = t_ms
        if self._warm:
            res = self._lm.detect_for_video(img, t_ms)
        else:  # the first call logs graph warnings, and the first call that finds a body logs its own (NORM_RECT)
            with quiet_native_stderr():
                res = self._lm.detect_for_video(img, t_ms)
            self._warm = bool(res.pose_landmarks)
        return _poses(res, t_s, w, h)


def _poses(res, t_s: float, w: int, h: int) -> list[PoseFrame]:
    """A PoseLandmarkerResult as PoseFrames, landmarks in the pixels of a w x h frame."""
    out = []
    for i, lms in enumerate(res.pose_landmarks or ()):
        arr = np.array([(p.x, p.y, p.visibility if p.visibility is not None else 1.0) for p in lms], dtype=float)
        xy = arr[:, :2] * (w, h)
        world = None
        if res.pose_world_landmarks and i < len(res.pose_world_landmarks):
            world = np.array([(p.x, p.y, p.z) for p in res.pose_world_landmarks[i]], dtype=float)
        out.append(PoseFrame(t_s, xy.reshape(N_LANDMARKS, 2), np.clip(arr[:, 2], 0, 1), True, world))
    return out


class ImagePoseEstimator(_Graph):
    """PoseLandmarker in IMAGE mode: each picture on its own, no tracking between calls. For probes on a few
    unrelated pictures (the orientation probe turns the same frame four ways), where VIDEO mode would carry the
    last frame's body region over to the next, and for PeopleEstimator's search for someone new (a VIDEO graph
    that found nobody at its last call detects afresh anyway). Context manager, like PoseEstimator."""

    def __init__(self, model: str | os.PathLike | None = None, max_side_px: int = 1280) -> None:
        self.model_path = resolve_model(model)
        self.max_side_px = max_side_px
        self._mp, self._lm = _landmarker(self.model_path, "IMAGE", 1)

    model_input = PoseEstimator.model_input

    def detect_all(self, image_rgb: np.ndarray, t_s: float = 0.0, frame_size: tuple[int, int] | None = None
                   ) -> list[PoseFrame]:
        """PoseEstimator.detect_all's contract (at most one pose here), with no state carried between calls."""
        w, h, img = self._input(image_rgb, frame_size)
        with quiet_native_stderr():
            res = self._lm.detect(img)
        return _poses(res, t_s, w, h)


class _Slot:
    """One followed person: a one-pose graph of their own and the last pose it found."""

    def __init__(self, est: PoseEstimator) -> None:
        self.est = est
        self.pose: PoseFrame | None = None
        self.last_seen_s = -math.inf


class PeopleEstimator:
    """Everyone in view, each through a one-pose graph of their own, so the lifter's landmarks are the ones the
    lifter alone would give.

    A one-pose graph follows one body from frame to frame (its crop comes from the previous landmarks). Every
    `people_check_s` a search graph (IMAGE mode: each search detects afresh) looks at the frame with everyone
    followed greyed out; a body it finds there in `search_confirm` searches in a row gets a graph of its own (up
    to `max_people`). (A multi-pose graph on the
    whole frame missed a 640 px lifter beside a push-up picture: its detector sees the frame at 224 px.) Each
    graph is fed the frame with the other followed people greyed out (their landmark boxes grown by
    `mask_margin_frac`, never over its own person's box) so it cannot jump to them. A graph that finds nobody new
    for `drop_unseen_s` is closed, the last one never. With one person in view the only graph sees every frame
    untouched: exactly `PoseEstimator`'s output, plus one search every `people_check_s`. num_poses > 1 instead
    re-detects on every frame, moves the landmarks and costs ~1.8x (README "Several people").
    """

    def __init__(self, model: str | os.PathLike | None = None, max_side_px: int = 960,
                 settings: PoseSettings | None = None, *, lifter: PoseEstimator | None = None,
                 search: ImagePoseEstimator | None = None) -> None:
        """lifter, search: graphs already set up (analyze builds the first on a thread and hands over the
        orientation probe's IMAGE graph as the second), owned and closed by this estimator from here on; any
        not given is built here. The search graph is IMAGE mode: it looks for someone not followed yet, and a
        VIDEO graph that found nobody at its last call (the usual case) detects afresh just as IMAGE mode does."""
        from formcheck.exercises import load_profile

        given = [g for g in (lifter, search) if g is not None]
        try:
            self.settings = settings or load_profile().pose
            for key in ("max_people", "search_confirm"):
                if getattr(self.settings, key) < 1:
                    hint = " (1 follows only the model's first person)" if key == "max_people" else ""
                    raise ProfileError(f"[pose] {key} must be at least 1, got {getattr(self.settings, key)}; fix "
                                       f"the profile{hint}")
            self.model_path = resolve_model(model)
            for g in given:   # (their own max_side_px is not used: this estimator downscales every frame)
                if Path(g.model_path) != self.model_path:
                    raise ValueError(f"a handed-in graph runs {g.model_path}, this estimator {self.model_path}")
            self.max_side_px = max_side_px
            self._slots: list[_Slot] = [_Slot(lifter or PoseEstimator(self.model_path, max_side_px))]
            if self.settings.max_people > 1:
                self._search: ImagePoseEstimator | None = search or ImagePoseEstimator(self.model_path, max_side_px)
            else:
                self._search = None
                if search is not None:
                    search.close()
        except BaseException:
            for g in given + [sl.est for sl in getattr(self, "_slots", ())]:
                g.close()
            raise
        self._next_search_s = -math.inf
        self._candidates: list[tuple[PoseFrame, int]] = []   # found by the last search, not followed yet
        self.n_searches = 0
        self.max_followed = 1

    @property
    def n_followed(self) -> int:
        return len(self._slots)

    def model_input(self, image_rgb: np.ndarray) -> np.ndarray:
        return downscaled(image_rgb, self.max_side_px)

    def _box(self, pose: PoseFrame, scale: float, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
        """The pose's landmark box in model-input pixels, grown by mask_margin_frac, clipped to the image."""
        xy = pose.xy_px[np.isfinite(pose.xy_px).all(axis=1)] * scale
        if not len(xy):
            return None
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        m = self.settings.mask_margin_frac
        gx, gy = m * (x1 - x0), m * (y1 - y0)
        h, w = shape
        box = (max(0, int(x0 - gx)), max(0, int(y0 - gy)), min(w, int(math.ceil(x1 + gx))),
               min(h, int(math.ceil(y1 + gy))))
        return box if box[2] > box[0] and box[3] > box[1] else None

    def detect(self, image_rgb: np.ndarray, t_s: float, frame_size: tuple[int, int] | None = None) -> PoseFrame:
        poses = self.detect_all(image_rgb, t_s, frame_size)
        return poses[0] if poses else PoseFrame.missing(t_s)

    def detect_all(self, image_rgb: np.ndarray, t_s: float, frame_size: tuple[int, int] | None = None
                   ) -> list[PoseFrame]:
        """Every followed person's pose in this frame (landmarks in full-frame pixels), the model's duplicates
        left out. frame_size as `PoseEstimator.detect`."""
        from formcheck.core.people import body_centre, distinct, match

        s = self.settings
        if frame_size is None:
            frame_size = (image_rgb.shape[1], image_rgb.shape[0])
            small = self.model_input(image_rgb)
        else:
            small = image_rgb
        scale = small.shape[1] / frame_size[0]
        recent = [sl.pose is not None and t_s - sl.last_seen_s <= s.drop_unseen_s for sl in self._slots]
        boxes = [self._box(sl.pose, scale, small.shape[:2]) if ok else None for sl, ok in zip(self._slots, recent)]
        out: list[PoseFrame] = []
        for i, sl in enumerate(self._slots):
            others = [b for j, b in enumerate(boxes) if j != i and b is not None]
            img = small
            if others:
                img = small.copy()
                for x0, y0, x1, y1 in others:
                    img[y0:y1, x0:x1] = 128
                if boxes[i] is not None:          # never grey out the graph's own person
                    x0, y0, x1, y1 = boxes[i]
                    img[y0:y1, x0:x1] = small[y0:y1, x0:x1]
            pose = sl.est.detect(img, t_s, frame_size)
            if pose.detected and len(distinct(out + [pose], s.same_person_torso)) > len(out):
                sl.pose, sl.last_seen_s = pose, t_s
                out.append(pose)
        # Search only when every graph has its person: a graph that lost its own would otherwise get a twin.
        if self._search is not None and t_s >= self._next_search_s and len(out) == len(self._slots) < s.max_people:
            self._next_search_s = t_s + s.people_check_s
            self.n_searches += 1
            img = small.copy()           # everyone followed greyed out: the detector sees only who is left
            for b in (self._box(p, scale, small.shape[:2]) for p in out):
                if b is not None:
                    img[b[1]:b[3], b[0]:b[2]] = 128
            found = distinct(self._search.detect_all(img, t_s, frame_size), s.same_person_torso)
            known = match([body_centre(p) for p in found], [body_centre(p) for p in out], s.match_max_torso)
            new = [p for j, p in enumerate(found) if j not in known
                   and len(distinct(out + [p], s.same_person_torso)) > len(out)]   # not a limb of someone followed
            # Someone new must be found by `search_confirm` searches in a row at about the same place: clutter beside
            # a greyed-out body (a bench, the plates) or half a body the model misfitted shows up once, not twice.
            seen = match([body_centre(p) for p in new], [body_centre(p) for p, _ in self._candidates],
                         s.match_max_torso)
            self._candidates = [(p, 1 + (self._candidates[seen[j]][1] if j in seen else 0)) for j, p in enumerate(new)]
            for p, n in self._candidates:
                if n >= s.search_confirm and len(self._slots) < s.max_people:
                    sl = _Slot(PoseEstimator(self.model_path, self.max_side_px))
                    sl.pose, sl.last_seen_s = p, t_s
                    self._slots.append(sl)
                    out.append(p)
            self._candidates = [(p, n) for p, n in self._candidates if n < s.search_confirm]
            self.max_followed = max(self.max_followed, len(self._slots))
        keep = [sl for sl in self._slots if t_s - sl.last_seen_s <= s.drop_unseen_s]
        if not keep:          # nobody in view: keep the graph that saw someone last (one graph always stays)
            keep = [max(self._slots, key=lambda sl: sl.last_seen_s)]
        for sl in self._slots:
            if sl not in keep:
                sl.est.close()
        self._slots = keep
        return out

    def close(self) -> None:
        for sl in self._slots:
            sl.est.close()
        if self._search is not None:
            self._search.close()
            self._search = None

    def __enter__(self) -> "PeopleEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
