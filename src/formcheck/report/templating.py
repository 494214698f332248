"""The one Jinja2 environment for every page formcheck writes (report, batch index, web app): templates and
static files are package data under report/templates and report/static; autoescape is on for .html/.j2."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import jinja2


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("formcheck", "report/templates"),
        autoescape=jinja2.select_autoescape(["html", "j2", "html.j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def stream(template: str, **context):
    """The page in pieces (flat memory for long sets)."""
    return environment().get_template(template).generate(**context)


def static_text(name: str) -> str:
    """A CSS/JS file from report/static (inlined into self-contained pages, served as a file by the web app)."""
    return resources.files("formcheck").joinpath(f"report/static/{name}").read_text()
