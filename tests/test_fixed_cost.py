"""What every process pays before its first job: templates compiled once per install, the HTTP client
loaded only by the commands that talk to Claret."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

from claret_errors.report import compiled, html, markdown

TEMPLATES = {"html": ("job.html.j2", "index.html.j2"), "markdown": ("job.md.j2", "index.md.j2")}


@pytest.fixture
def fresh_environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The environments and caches are made once per process: each test here starts anew, with a cache
    folder of its own. Yields XDG_CACHE_HOME."""

    def clear() -> None:
        compiled.bytecode_cache.cache_clear()
        html.environment.cache_clear()
        markdown.environment.cache_clear()

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clear()
    yield tmp_path / "cache"
    clear()


def compiled_now(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates jinja2 compiles from source from now on (a cache hit compiles none)."""
    names: list[str] = []
    real = jinja2.Environment.compile

    def compile_and_note(
        self: jinja2.Environment, source: str, name: str | None = None, *a: object
    ) -> object:
        names.append(str(name))
        return real(self, source, name, *a)

    monkeypatch.setattr(jinja2.Environment, "compile", compile_and_note)
    return names


def test_templates_are_compiled_once_then_loaded_from_the_cache(
    fresh_environments: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A night of separate cron processes must not compile the report templates in each of them."""
    names = compiled_now(monkeypatch)
    for module, kind in ((html, "html"), (markdown, "markdown")):
        for template in TEMPLATES[kind]:
            module.environment().get_template(template)
    assert set(TEMPLATES["html"]) | set(TEMPLATES["markdown"]) <= set(names)
    assert all(any((fresh_environments / "claret-errors" / "templates" / k).iterdir()) for k in TEMPLATES)
    compiled.bytecode_cache.cache_clear()
    html.environment.cache_clear()
    markdown.environment.cache_clear()
    names.clear()
    rendered = html.environment().get_template("job.html.j2")
    markdown.environment().get_template("job.md.j2")
    assert names == [] and rendered.name == "job.html.j2"


def test_a_cache_folder_that_cannot_be_made_means_no_cache(fresh_environments: Path) -> None:
    """A read-only home (a locked-down service account) costs the compile time, never the report."""
    fresh_environments.write_text("a file where the cache folder would go")
    assert compiled.bytecode_cache("html") is None
    assert html.environment().get_template("job.html.j2").name == "job.html.j2"


def test_html_and_markdown_keep_their_compiled_templates_apart(fresh_environments: Path) -> None:
    """jinja2's cache key ignores autoescape: sharing one folder could run Markdown's unescaped code."""
    html.environment().get_template("job.html.j2")
    markdown.environment().get_template("job.md.j2")
    folders = [fresh_environments / "claret-errors" / "templates" / kind for kind in ("html", "markdown")]
    assert all(folder.is_dir() for folder in folders)
    assert {p.name for p in folders[0].iterdir()}.isdisjoint(p.name for p in folders[1].iterdir())


def test_the_offline_stages_load_neither_http_client_nor_fetch() -> None:
    """`analyze` reads files on disk: importing httpx, stamina or fetch (asyncio) is start-up for nothing."""
    code = (
        "import sys; import claret_errors.pipeline, claret_errors.cli.analyze; "
        "names = ('httpx', 'stamina', 'httpcore', 'claret_errors.fetch'); "
        "print(sorted(m for m in names if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
