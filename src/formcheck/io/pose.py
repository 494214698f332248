"""The only module that imports MediaPipe: PoseLandmarker (Tasks API) in VIDEO mode, one per clip or stream."""
from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path

import numpy as np

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


@contextlib.contextmanager
def quiet_native_stderr():
    """MediaPipe's C++ side logs set-up and tear-down chatter straight to fd 2 (no Python switch turns it off):
    mute it while the graph is built, warms up and is closed. Python-level errors still raise normally.
    FORMCHECK_DEBUG=1 lets it through."""
    if os.environ.get("FORMCHECK_DEBUG"):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class PoseEstimator:
    """MediaPipe PoseLandmarker in VIDEO mode. Use as a context manager so `close()` always runs."""

    def __init__(self, model: str | os.PathLike | None = None, max_side_px: int = 960, num_threads: int | None = None) -> None:
        self.model_path = resolve_model(model)
        self.max_side_px = max_side_px
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as e:  # pragma: no cover
            raise ModelError(f"mediapipe is not installed ({e}): run `make setup`") from None
        self._mp = mp
        opts = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=1,
        )
        try:
            with quiet_native_stderr():
                self._lm = vision.PoseLandmarker.create_from_options(opts)
        except (RuntimeError, ValueError) as e:
            raise ModelError(f"pose model {self.model_path} could not be loaded ({e}); pass a MediaPipe "
                             f"pose_landmarker .task bundle to --model") from None
        self._last_ms = -1
        self._warm = False

    def model_input(self, image_rgb: np.ndarray) -> np.ndarray:
        """The frame as the model should see it: downscaled once if its longest side exceeds max_side_px.

        Separate from `detect` so a pipeline can do it on its decode thread, off the inference path.
        """
        import cv2

        h, w = image_rgb.shape[:2]
        scale = self.max_side_px / max(h, w)
        if scale >= 1:
            return image_rgb
        return cv2.resize(image_rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)

    def detect(self, image_rgb: np.ndarray, t_s: float, frame_size: tuple[int, int] | None = None) -> PoseFrame:
        """Pose of one upright RGB frame, landmarks in the pixels of the full frame.

        frame_size: (width, height) of the full frame when `image_rgb` is already `model_input(frame)`.
        """
        if frame_size is None:
            h, w = image_rgb.shape[:2]
            small = self.model_input(image_rgb)
        else:
            (w, h), small = frame_size, image_rgb
        t_ms = max(int(round(t_s * 1000)), self._last_ms + 1)  # VIDEO mode needs strictly increasing timestamps
        self._last_ms = t_ms
        img = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(small))
        if self._warm:
            res = self._lm.detect_for_video(img, t_ms)
        else:  # the first call logs graph warnings
            with quiet_native_stderr():
                res = self._lm.detect_for_video(img, t_ms)
            self._warm = True
        if not res.pose_landmarks:
            return PoseFrame.missing(t_s)
        lms = res.pose_landmarks[0]
        arr = np.array([(p.x, p.y, p.visibility if p.visibility is not None else 1.0) for p in lms], dtype=float)
        xy = arr[:, :2] * (w, h)
        world = None
        if res.pose_world_landmarks:
            world = np.array([(p.x, p.y, p.z) for p in res.pose_world_landmarks[0]], dtype=float)
        return PoseFrame(t_s, xy.reshape(N_LANDMARKS, 2), np.clip(arr[:, 2], 0, 1), True, world)

    def close(self) -> None:
        """Release the graph. Its TFLite delegates log "DestroyAccelerator" lines to fd 2 as they go: muted."""
        if self._lm is not None:
            lm, self._lm = self._lm, None
            with quiet_native_stderr():
                lm.close()

    def __enter__(self) -> "PoseEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ImagePoseEstimator:
    """PoseLandmarker in IMAGE mode: each picture on its own, no tracking between calls. For probes on a few
    unrelated pictures (the orientation probe turns the same frame four ways), where VIDEO mode would carry the
    last frame's body region over to the next. Context manager, like PoseEstimator."""

    def __init__(self, model: str | os.PathLike | None = None, max_side_px: int = 1280) -> None:
        self.model_path = resolve_model(model)
        self.max_side_px = max_side_px
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as e:  # pragma: no cover
            raise ModelError(f"mediapipe is not installed ({e}): run `make setup`") from None
        self._mp = mp
        opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(self.model_path)),
                                            running_mode=vision.RunningMode.IMAGE, num_poses=1)
        try:
            with quiet_native_stderr():
                self._lm = vision.PoseLandmarker.create_from_options(opts)
        except (RuntimeError, ValueError) as e:
            raise ModelError(f"pose model {self.model_path} could not be loaded ({e}); pass a MediaPipe "
                             f"pose_landmarker .task bundle to --model") from None

    model_input = PoseEstimator.model_input

    def detect(self, image_rgb: np.ndarray, t_s: float = 0.0) -> PoseFrame:
        """Pose of one RGB picture (downscaled like PoseEstimator's input), landmarks in its own pixels."""
        h, w = image_rgb.shape[:2]
        small = self.model_input(image_rgb)
        img = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(small))
        with quiet_native_stderr():
            res = self._lm.detect(img)
        if not res.pose_landmarks:
            return PoseFrame.missing(t_s)
        arr = np.array([(p.x, p.y, p.visibility if p.visibility is not None else 1.0)
                        for p in res.pose_landmarks[0]], dtype=float)
        return PoseFrame(t_s, (arr[:, :2] * (w, h)).reshape(N_LANDMARKS, 2), np.clip(arr[:, 2], 0, 1), True)

    def close(self) -> None:
        if self._lm is not None:
            lm, self._lm = self._lm, None
            with quiet_native_stderr():
                lm.close()

    def __enter__(self) -> "ImagePoseEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
