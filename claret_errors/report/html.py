"""HTML rendering of the report views: one self-contained file per report, CSS inline, SVG charts.

Autoescape is on for every template (`.html.j2`, `.css.j2` and anything else), so every value from a CSV or
a message is escaped. Nothing here marks a value safe, reads data or writes files.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from claret_errors import __version__
from claret_errors.reconcile.advice import GUESSED
from claret_errors.report.charts import accounting_bar, trend_columns
from claret_errors.report.compiled import bytecode_cache
from claret_errors.report.index import IndexView
from claret_errors.report.view import AttemptBanner, JobView

TEMPLATE_EXTENSIONS = ("html.j2", "css.j2")
ATTEMPT_MARK = "claret-errors: last attempt failed"  # the HTML comments around a failed attempt's banner


@cache
def environment() -> Environment:
    """The one HTML environment: autoescape always on, undefined names are errors, not blanks."""
    env = Environment(
        loader=PackageLoader("claret_errors.report", "templates"),
        bytecode_cache=bytecode_cache("html"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["GUESSED"] = GUESSED  # the macros, imported without the page's context, mark guesses too
    env.globals["attempt_mark"] = ATTEMPT_MARK
    return env


def render_job_html(view: JobView) -> str:
    """A job's (or one owner's) report page."""
    segments = accounting_bar(view.counts) if view.counts else []
    return (
        environment()
        .get_template("job.html.j2")
        .render(v=view, segments=segments, columns=trend_columns(view.trends), version=__version__)
    )


def render_attempt_html(banner: AttemptBanner) -> str:
    """The banner alone, as a job report renders it at the top of its `<main>`."""
    return environment().get_template("_attempt.html.j2").render(b=banner)


def render_index_html(view: IndexView) -> str:
    """The run index page."""
    return (
        environment()
        .get_template("index.html.j2")
        .render(
            v=view,
            segments=accounting_bar(view.totals.first_sending()),
            columns=trend_columns(view.trends),
            version=__version__,
        )
    )
