"""The one Jinja2 environment for every page formcheck writes (report, batch index, web app): templates and
static files are package data under report/templates and report/static; autoescape is on for .html/.j2."""
from __future__ import annotations

import base64
import html
from functools import lru_cache
from importlib import resources

import jinja2
from markupsafe import Markup


@jinja2.pass_eval_context
def _escape_output(eval_ctx: jinja2.nodes.EvalContext, value: object) -> object:
    """In autoescaped templates every {{ value }} not already markup is escaped with html.escape (&quot; and &#x27;
    for quotes, as the pages' hand-written escaping always did); markup (macros, |safe, Markup) passes through."""
    if not eval_ctx.autoescape or hasattr(value, "__html__") or isinstance(value, jinja2.Undefined):
        return value
    return Markup(html.escape(str(value), quote=True))


def data_uri(data: bytes, mime: str) -> Markup:
    """bytes -> 'data:<mime>;base64,...' for src/srcset (base64 needs no escaping)."""
    return Markup(f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("formcheck", "report/templates"),
        autoescape=jinja2.select_autoescape(["html", "j2", "html.j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_escape_output,
    )
    env.filters["data_uri"] = data_uri
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def stream(template: str, **context):
    """The page in pieces (flat memory for long sets)."""
    return environment().get_template(template).generate(**context)


def static_text(name: str) -> str:
    """A CSS/JS file from report/static (inlined into self-contained pages, served as a file by the web app)."""
    return resources.files("formcheck").joinpath(f"report/static/{name}").read_text()
