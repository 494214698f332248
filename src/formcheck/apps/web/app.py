"""The web app: FastAPI routes over the store, the queue and the report's templates.

Pages: `/` (analyse a clip), `/sets/{id}` (progress, the failure, or the result page: report.html.j2 itself with
linked assets, rendered once and cached beside the set), `/history` (the sets and the trend charts). API:
`/api/analyses` (POST an upload -> 202 {"id"}, GET the history), `/api/analyses/{id}` (GET status + report,
DELETE), `/api/analyses/{id}/events` (Server-Sent Events while it runs). Files: `/sets/{id}/{name}` for a
whitelist of names (FileResponse: HTTP range requests, so the video seeks), `/static/{name}`, `/trends/{name}.svg`.
Errors are `{"error": "one line"}` with a 4xx status, the CLI's own messages.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from formcheck.apps.web.jobs import Dispatcher, fail_unfinished
from formcheck.apps.web.security import Guard
from formcheck.apps.web.store import SET_FILES, Store
from formcheck.apps.web.uploads import UploadError, receive
from formcheck.core.errors import FormcheckError
from formcheck.exercises import CHOICES, get_exercise

STATIC = {"report.css": "text/css", "report.js": "text/javascript", "web.css": "text/css",
          "web.js": "text/javascript"}
PAGE_TEMPLATES = ("report.html.j2", "report_macros.html.j2", "web_result.html.j2", "web_macros.html.j2")
EVENTS_POLL_S = 0.25
EXERCISE_LABELS = {"auto": "Tell from the video", "hip_thrust": "Hip thrust", "glute_bridge": "Glute bridge"}
DOWNLOADS = (("annotated.mp4", "Annotated video"), ("report.json", "report.json"), ("frames.csv", "frames.csv"),
             ("report.html", "Stand-alone report (report.html)"))


def public_report(report: dict, clip_name: str) -> dict:
    """report.json as the API and the download give it: the lifter's file name instead of the upload's server path,
    and the outputs by file name (the server's folders are nobody's business; imported sets carry the paths of the
    machine that analysed them)."""
    out = dict(report)
    if isinstance(out.get("video"), dict):
        out["video"] = {**out["video"], "path": clip_name}
    if isinstance(out.get("outputs"), dict):
        out["outputs"] = {k: Path(str(v)).name for k, v in out["outputs"].items()}
    return out


@dataclass(frozen=True)
class Config:
    data_dir: Path
    token: str | None = None          # required when bound beyond loopback
    loopback_only: bool = True
    max_upload_bytes: int = 2048 * 1024 * 1024
    workers: int | None = None        # None: one per core
    model: str | None = None


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone().strftime("%d %b %Y, %H:%M")


def _summary(row: dict) -> str:
    if row["status"] == "done":
        n, clean = row["n_reps"] or 0, row["n_clean"] or 0
        return f"{n} rep{'s' if n != 1 else ''}, {n - clean} with a fault"
    return {"queued": "waiting", "running": "analysing", "failed": "failed"}[row["status"]]


def create_app(cfg: Config):
    store = Store(cfg.data_dir)
    dispatcher = Dispatcher(store, cfg.workers, cfg.model)
    page_cache = _page_cache_name()
    page_locks: dict[str, threading.Lock] = {}
    locks_lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(app):
        fail_unfinished(store)
        dispatcher.start()
        yield
        dispatcher.stop()

    app = FastAPI(title="formcheck", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.store, app.state.dispatcher = store, dispatcher

    def err(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers={"cache-control": "no-store"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        msg = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
        if request.url.path.startswith("/api/"):
            return err(exc.status_code, msg)
        return Response(f"formcheck: {msg}\n", status_code=exc.status_code, media_type="text/plain")

    def not_found():
        raise StarletteHTTPException(404)

    def row_or_404(set_id: str) -> dict:
        row = store.db.get(set_id) if store.valid_id(set_id) else None
        if row is None:
            not_found()
        return row

    def state_text(row: dict, position: int | None, progress: dict | None) -> str:
        if row["status"] == "queued":
            return f"Waiting: number {position} in the queue" if position else "Waiting in the queue"
        if row["status"] == "running":
            if progress and progress["frames_total"]:
                return f"Analysing: {100 * progress['frames_done'] / progress['frames_total']:.0f}% of the frames"
            return "Starting the analysis…"
        return {"done": "Done", "failed": "Failed"}[row["status"]]

    def status_of(row: dict, *, with_report: bool = False, positions: dict[str, int] | None = None) -> dict:
        """The API's view of a set. `positions`: queue places from the same snapshot as `row` (the history list),
        else asked now (and the row read again if it left the queue meanwhile)."""
        if positions is not None:
            position = positions.get(row["id"])
        else:
            position = dispatcher.queue_position(row["id"]) if row["status"] == "queued" else None
            if row["status"] == "queued" and position is None:   # claimed (or deleted) since the row was read
                row = store.db.get(row["id"]) or {**row, "status": "failed", "error": "this set was deleted"}
        progress = dispatcher.progress(row["id"]) if row["status"] == "running" else None
        out = {"id": row["id"], "status": row["status"], "state": state_text(row, position, progress),
               "clip": row["clip_name"], "created_at": row["created_at"], "finished_at": row["finished_at"],
               "source": row["source"], "error": row["error"] or None, "queue_position": position,
               "progress": progress, "worker_pid": dispatcher.worker_pid(row["id"]), "url": f"/sets/{row['id']}"}
        if row["status"] == "done":
            out.update(exercise=row["exercise"], n_reps=row["n_reps"], n_clean=row["n_clean"],
                       duration_s=row["duration_s"], cues=row["cues"],
                       files={n: f"/sets/{row['id']}/{n}" for n in SET_FILES if store.set_file(row["id"], n)})
            if with_report:
                out["report"] = public_report(json.loads((store.set_dir(row["id"]) / "report.json").read_text()),
                                              row["clip_name"])
        return out

    # --------------------------------------------------------------------------------------------- API

    @app.post("/api/analyses", status_code=202)
    async def create(request: Request):
        set_id = store.new_id()
        dest = store.upload_path(set_id)
        try:
            up = await receive(request, dest, cfg.max_upload_bytes)
        except UploadError as e:
            return err(e.status, str(e))
        except OSError as e:
            dest.unlink(missing_ok=True)
            return err(507, f"cannot store the upload in {store.root} ({e.strerror}); free some disk space")
        exercise = up.fields.get("exercise") or "auto"
        if exercise not in CHOICES:
            dest.unlink(missing_ok=True)
            return err(400, f"exercise must be one of {', '.join(CHOICES)}, not {exercise[:40]!r}")
        video = up.fields.get("video", "1").lower() not in ("0", "false", "no", "off")
        try:
            await run_in_threadpool(_check_inputs, store, set_id, dest, up.profile, exercise)
        except FormcheckError as e:
            store.drop_inputs(set_id)
            msg = str(e).replace(str(dest), up.clip_name).replace(str(store.profile_path(set_id)), "the profile")
            return err(400, " ".join(msg.split()))
        store.db.add_set(set_id, up.clip_name, exercise_choice=exercise, has_profile=up.profile is not None,
                         want_video=video, upload_bytes=up.size_bytes)
        dispatcher.wake()
        row = store.db.get(set_id)
        return JSONResponse({**status_of(row)}, status_code=202, headers={"location": f"/api/analyses/{set_id}"})

    @app.get("/api/analyses")
    def history():
        rows = store.db.list()
        waiting = sorted((r for r in rows if r["status"] == "queued"), key=lambda r: r["seq"])
        positions = {r["id"]: i + 1 for i, r in enumerate(waiting)}
        return {"analyses": [status_of(r, positions=positions) for r in rows]}

    @app.get("/api/analyses/{set_id}")
    def status(set_id: str):
        return status_of(row_or_404(set_id), with_report=True)

    @app.delete("/api/analyses/{set_id}")
    def delete(set_id: str):
        row_or_404(set_id)
        dispatcher.discard(set_id)
        store.db.delete(set_id)
        store.remove(set_id)
        dispatcher.wake()
        return {"deleted": set_id}

    @app.get("/api/analyses/{set_id}/events")
    async def events(set_id: str, request: Request):
        row_or_404(set_id)

        async def stream():
            last, quiet = None, 0.0
            while not await request.is_disconnected():
                row = store.db.get(set_id)
                if row is None:
                    yield "event: gone\ndata: {}\n\n"
                    return
                state = status_of(row)
                key = json.dumps(state, sort_keys=True)
                if key != last:
                    last, quiet = key, 0.0
                    yield f"event: state\ndata: {key}\n\n"
                elif quiet > 15:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                if row["status"] in ("done", "failed"):
                    return
                await asyncio.sleep(EVENTS_POLL_S)
                quiet += EVENTS_POLL_S

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    # ------------------------------------------------------------------------------------------- pages

    from formcheck.report.templating import render, static_text

    def html(template: str, **ctx) -> HTMLResponse:
        return HTMLResponse(render(template, **ctx), headers={"cache-control": "no-store"})

    @app.get("/")
    def index():
        rows = store.db.list()
        waiting = sorted((r for r in rows if r["status"] == "queued"), key=lambda r: r["seq"])
        positions = {r["id"]: i + 1 for i, r in enumerate(waiting)}
        active = [{**r, "state": state_text(r, positions.get(r["id"]), dispatcher.progress(r["id"]))}
                  for r in rows if r["status"] in ("queued", "running")]
        recent = [{**r, "when": _when(r["created_at"]), "summary": _summary(r)}
                  for r in rows if r["status"] == "done"][:5]
        choices = sorted(CHOICES, key=lambda c: c != "auto")   # auto first: the default
        return html("web_analyse.html.j2", active="analyse", max_upload_bytes=cfg.max_upload_bytes,
                    max_upload_mb=cfg.max_upload_bytes // (1024 * 1024),
                    exercises=[(c, EXERCISE_LABELS.get(c, c)) for c in choices], active_jobs=active, recent=recent)

    @app.get("/history")
    def history_page():
        rows = store.db.list()
        for r in rows:
            r.update(when=_when(r["created_at"]), summary=_summary(r),
                     exercise_title=get_exercise(r["exercise"]).title if r["exercise"] else "")
        from formcheck.apps.web.trends import CHARTS, TITLES

        done = [r for r in rows if r["status"] == "done"]
        charts = [(n, TITLES[n]) for n in CHARTS] if done else []
        version = f"{len(done)}-{done[0]['id'] if done else ''}"
        return html("web_history.html.j2", active="history", rows=rows, charts=charts, version=version)

    @app.get("/sets/{set_id}")
    def set_page(set_id: str):
        row = row_or_404(set_id)
        if row["status"] != "done":
            pos = dispatcher.queue_position(set_id) if row["status"] == "queued" else None
            return html("web_job.html.j2", active="analyse", row=row,
                        state=state_text(row, pos, dispatcher.progress(set_id)))
        return FileResponse(_result_page(row), media_type="text/html; charset=utf-8",
                            headers={"cache-control": "no-store"})

    def _result_page(row: dict) -> Path:
        """Render the report template for this set once (thumbnails and charts take a second) and keep it."""
        set_id = row["id"]
        cache = store.set_dir(set_id) / page_cache
        if cache.is_file():
            return cache
        with locks_lock:
            lock = page_locks.setdefault(set_id, threading.Lock())
        with lock:
            if cache.is_file():
                return cache
            from formcheck.report.files import read_json
            from formcheck.report.page import gather_parts, iter_html, profile_for

            out = store.set_dir(set_id)
            analysis = read_json(out / "report.json")
            prof = profile_for(analysis)
            analysis = dataclasses.replace(analysis, video=dataclasses.replace(analysis.video, path=row["clip_name"]))
            parts = gather_parts(analysis, out, prof)
            stem = Path(row["clip_name"]).stem or "clip"
            downloads = [(f"{stem}_{name}", label, f"/sets/{set_id}/{name}") for name, label in DOWNLOADS
                         if (out / name).is_file()]
            pieces = iter_html(analysis, prof, video_src=f"/sets/{set_id}/annotated.mp4" if parts.has_video else None,
                               thumbs=parts.thumbs, plots=parts.plots, notes=parts.notes, assets="linked",
                               static_url="/static", template="web_result.html.j2",
                               extra={"set_id": set_id, "downloads": downloads, "when": _when(row["created_at"]),
                                      "source": "imported from a batch folder" if row["source"] == "import"
                                      else "uploaded"})
            tmp = cache.with_name(f".page.{os.getpid()}.{threading.get_ident()}.tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                for piece in pieces:
                    fh.write(piece)
            os.replace(tmp, cache)
            return cache

    # ------------------------------------------------------------------------------------------- files

    @app.get("/sets/{set_id}/{name}")
    def set_file(set_id: str, name: str):
        row = row_or_404(set_id)
        path = store.set_file(set_id, name) if row["status"] == "done" else None
        if path is None:
            not_found()
        # only the video shows inline; the rest download (report.html has inline script: not run on this origin)
        disposition = "inline" if name == "annotated.mp4" else "attachment"
        if name == "report.json":
            body = json.dumps(public_report(json.loads(path.read_text()), row["clip_name"]), indent=1)
            return Response(body, media_type=SET_FILES[name], headers={
                "cache-control": "private, max-age=60",
                "content-disposition": f'attachment; filename="formcheck-{set_id}-{name}"'})
        return FileResponse(path, media_type=SET_FILES[name], filename=f"formcheck-{set_id}-{name}",
                            content_disposition_type=disposition, headers={"cache-control": "private, max-age=60"})

    @app.get("/static/{name}")
    def static(name: str):
        if name not in STATIC:
            not_found()
        return Response(static_text(name), media_type=STATIC[name], headers={"cache-control": "no-cache"})

    @app.get("/trends/{name}")
    def trend(name: str):
        from formcheck.apps.web.trends import CHARTS, render as render_chart

        chart = name.removesuffix(".svg")
        if not name.endswith(".svg") or chart not in CHARTS:
            not_found()
        svg = render_chart(chart, store.db.trend_rows())
        if svg is None:
            not_found()
        return Response(svg, media_type="image/svg+xml", headers={"cache-control": "no-cache"})

    return Guard(app, token=cfg.token, loopback_only=cfg.loopback_only)


def _page_cache_name() -> str:
    """The rendered result page's file name beside the set's outputs, keyed by the templates' text: a formcheck
    with other templates renders the page anew instead of serving an old one."""
    import hashlib
    from importlib import resources

    h = hashlib.sha256()
    for name in PAGE_TEMPLATES:
        h.update(resources.files("formcheck").joinpath(f"report/templates/{name}").read_bytes())
    return f".page-{h.hexdigest()[:12]}.html"


def _check_inputs(store: Store, set_id: str, dest: Path, profile: bytes | None, exercise: str) -> None:
    """Decide by content, before the job is queued: the clip must open as a video (the CLI's VideoFile, its
    messages), and an uploaded profile must load for the chosen exercise."""
    from formcheck.exercises import candidates
    from formcheck.io.video_file import VideoFile

    VideoFile(dest).close()
    if profile is not None:
        path = store.profile_path(set_id)
        path.write_bytes(profile)
        candidates(exercise, path)
