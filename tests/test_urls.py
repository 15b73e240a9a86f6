"""Artifact paths are untrusted: only same-origin URLs get our token, and local names stay in their folder."""

from __future__ import annotations

import pytest

from claret_errors.claret.urls import UnsafeSourceError, local_name, resolve_source, safe_component
from claret_errors.errors import ExitCode

BASE = "https://plan.claret.app"


def test_relative_paths_are_appended_to_the_base_url() -> None:
    """Claret's documented relative paths resolve onto the base URL, with or without a leading slash."""
    path = "/demo/download/demo/user-uploads/inventory-import/2024-01-01/1/inventory_errors.csv"
    assert resolve_source(BASE, path) == BASE + path
    assert resolve_source(BASE + "/", "demo/x.csv") == BASE + "/demo/x.csv"


def test_absolute_url_on_the_same_origin_is_allowed() -> None:
    """An absolute URL is fine when scheme, host and port are exactly the base URL's (default port filled)."""
    assert (
        resolve_source(BASE, "https://plan.claret.app:443/demo/x.csv")
        == "https://plan.claret.app:443/demo/x.csv"
    )
    assert (
        resolve_source("http://127.0.0.1:8000", "http://127.0.0.1:8000/a.csv")
        == "http://127.0.0.1:8000/a.csv"
    )


@pytest.mark.parametrize(
    "source",
    [
        "https://evil.example/demo/x.csv",
        "//evil.example/demo/x.csv",
        "http://plan.claret.app/demo/x.csv",  # scheme downgrade
        "https://plan.claret.app:8443/x.csv",  # other port
        "https://plan.claret.app.evil.example/x.csv",
        "https://user:pw@plan.claret.app/x.csv",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "\\\\evil.example\\share\\x.csv",
        "/demo/x.csv\r\nX-Injected: 1",
        "",
    ],
)
def test_off_origin_and_odd_sources_are_refused(source: str) -> None:
    """Anything but a relative path or a same-origin URL is refused before a request (and a token) exists."""
    with pytest.raises(UnsafeSourceError) as info:
        resolve_source(BASE, source)
    assert info.value.exit_code == ExitCode.UNREADABLE
    assert "refused" in str(info.value)


def test_userinfo_trick_cannot_change_the_host() -> None:
    """`@evil` after the base would make the base a username if joined naively; we keep the host."""
    url = resolve_source(BASE, "@evil.example/x.csv")
    assert url.startswith(BASE + "/")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("/t/download/t/2024-01-01/1/inventory_errors.csv", "inventory_errors.csv"),
        ("/t/download/../../etc/passwd", "passwd"),
        ("/t/download/..", "file"),
        ("/t/download/%2e%2e", "file"),
        ("/t/download/..%2F..%2Fsecret.csv", "secret.csv"),
        ("/t/a\\b\\c.csv", "c.csv"),
        ("/t/.hidden.csv", "hidden.csv"),
        ("/t/we ird;name$.csv", "we_ird_name_.csv"),
        ("/t/CON.csv", "_CON.csv"),
        ("https://plan.claret.app/t/x.csv?sig=abc", "x.csv"),
    ],
)
def test_local_names_never_leave_the_folder(source: str, expected: str) -> None:
    """The last path segment, decoded and reduced to safe characters, is the file name: no traversal."""
    name = local_name(source, [])
    assert name == expected
    assert "/" not in name and "\\" not in name and name not in (".", "..") and not name.startswith(".")


def test_colliding_names_get_numbered_case_insensitively() -> None:
    """Two sources with the same name (or differing only by case) must not overwrite each other."""
    assert local_name("/a/errors.csv", ["errors.csv"]) == "errors-2.csv"
    assert local_name("/a/ERRORS.csv", ["errors.csv", "errors-2.csv"]) == "ERRORS-3.csv"


def test_very_long_names_are_cut_keeping_the_extension() -> None:
    """A hostile 10 kB name must not exceed file system limits, and should still look like a CSV."""
    name = safe_component("x" * 10_000 + ".csv")
    assert len(name) <= 120 and name.endswith(".csv")
