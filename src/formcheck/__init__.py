"""formcheck: hip-thrust form checking from side-view video.

    >>> import formcheck
    >>> result = formcheck.analyze("sample_videos/dev05_head_back.mp4", "out/dev05")
    >>> [rep.faults for rep in result.reps]
    [[], ['head_back'], ['head_back']]

`analyze` returns an `Analysis` (the same data as report.json). The CLI is `formcheck analyze|eval|live|batch`.
"""
from formcheck.core.errors import FormcheckError
from formcheck.core.types import Analysis, Finding, Rep, VideoInfo

__version__ = "0.1.0"
__all__ = ["analyze", "Analysis", "Rep", "Finding", "VideoInfo", "FormcheckError", "__version__"]


def analyze(path, out_dir=None, **kwargs) -> Analysis:
    """Analyse one clip; see formcheck.apps.analyze.analyze for the options."""
    from formcheck.apps.analyze import analyze as _analyze

    return _analyze(path, out_dir, **kwargs)
