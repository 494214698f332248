"""What a clip's outputs were computed from: the clip's content, the profiles it may be judged with, the model."""
from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Iterable

_HASH_CHUNK_BYTES = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def clip_fingerprint(path: str | os.PathLike) -> dict:
    """Size, mtime and sha256 of a clip (the sha256 decides; size is a quick 'changed' check)."""
    st = os.stat(path)
    return {"size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256_file(path)}


_model_ids: dict[str, dict] = {}


def model_identity(model: str | os.PathLike | None) -> dict:
    """Name, size and sha256 of the pose model that `analyze` will load (cached per process: it is 9 MB)."""
    from formcheck.io.pose import resolve_model

    path = resolve_model(model)
    key = str(path)
    if key not in _model_ids:
        _model_ids[key] = {"name": path.name, "size_bytes": path.stat().st_size, "sha256": sha256_file(path)}
    return _model_ids[key]


def profile_identity(profiles) -> dict:
    """Where the profiles came from and one hash of their effective settings (defaults included, so a changed
    shipped default also invalidates earlier results).

    `profiles`: one Profile, or the (Exercise, Profile) candidates of `exercises.candidates` -- with --profile
    that is the file laid over its exercise's profile; without, the shipped profile of every exercise the clip
    may turn out to be (so `auto` results depend on all of them).
    """
    from formcheck.core.config import Profile

    items: Iterable = [profiles] if isinstance(profiles, Profile) else profiles
    profs = [p[1] if isinstance(p, tuple) else p for p in items]
    canon = "\n".join(repr(dataclasses.replace(p, source="")) for p in profs)
    return {"source": " + ".join(p.source for p in profs), "sha256": hashlib.sha256(canon.encode()).hexdigest()}
