"""`formcheck batch`: analyse many clips in parallel worker processes (or Ray tasks), resumably.

Design, and why:
- One top-level, picklable function (`jobs.run_clip`) analyses one clip and returns its summary row. The local
  backend runs it in the shared analysis pool (`formcheck.apps.pool`: 'spawn' processes, MediaPipe is not
  fork-safe), the Ray backend as Ray tasks, so both give the same rows, the same outputs and the same error
  handling. It never raises for a bad clip: the error becomes the row's message, so one clip cannot stop the
  batch.
- Each clip gets its own folder under OUT with the same outputs as `formcheck analyze`. `analyze` writes them
  atomically (report.json last). Before it runs, the worker removes any older report.json and writes
  `.formcheck-job.json`, the fingerprint of what is analysed (clip size + mtime + sha256, exercise choice,
  profile and model identity); after it, `.formcheck-done.json` (the same plus the summary row). A rerun skips
  a clip only when a marker matches and the outputs are there, so a run killed at any point (even between
  report.json and the done marker) resumes without redoing complete clips and without trusting half-written
  ones.
- The parent plans (names, skip checks), reports progress to an observer and writes summary.csv /
  summary.json / index.html via temp file + os.replace, refreshed while the batch runs so a killed batch
  still leaves a valid summary. Printing is the CLI's (formcheck.cli.batch).
- Ray is imported only by the Ray backend: the default path must run without it installed.

Modules: fingerprint (identities), jobs (one clip: job, row, run_clip), plan (names, what is done), local and
ray_backend (backends), summary (files), runner (run_batch).
"""
from __future__ import annotations

from formcheck.apps.batch.fingerprint import clip_fingerprint, model_identity, profile_identity, sha256_file
from formcheck.apps.batch.jobs import (BASE_COLUMNS, COLUMNS, DONE_MARKER, EXIT_SOME_FAILED, JOB_MARKER,
                                       MARKER_VERSION, PROGRESS_EVERY_S, RULE_COLUMNS, RULE_IDS, ClipJob, Observer,
                                       empty_row, error_message, row_from_report, run_clip)
from formcheck.apps.batch.plan import done_row, output_names, probe_frames
from formcheck.apps.batch.runner import SUMMARY_REFRESH_S, BatchResult, run_batch
from formcheck.apps.batch.summary import SUMMARY_SCHEMA, counts, index_html, write_summary

__all__ = ["BASE_COLUMNS", "COLUMNS", "DONE_MARKER", "EXIT_SOME_FAILED", "JOB_MARKER", "MARKER_VERSION",
           "PROGRESS_EVERY_S", "RULE_COLUMNS", "RULE_IDS", "SUMMARY_REFRESH_S", "SUMMARY_SCHEMA", "BatchResult",
           "ClipJob", "Observer", "clip_fingerprint", "counts", "done_row", "empty_row", "error_message",
           "index_html", "model_identity", "output_names", "probe_frames", "profile_identity", "row_from_report",
           "run_batch", "run_clip", "sha256_file", "write_summary"]
