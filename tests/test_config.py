"""Settings precedence (flag > env > file > default) and clear errors for bad configuration."""

from __future__ import annotations

from pathlib import Path
from typing import get_args, get_type_hints

import pytest

from claret_errors.cli import main
from claret_errors.config import OPTION_KEYS, SCALARS, Settings, load_settings
from claret_errors.errors import ConfigError, ExitCode


def write(tmp_path: Path, text: str, name: str = "claret-errors.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_flag_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    """Each layer overrides the one below it, and the source of each value is recorded."""
    write(tmp_path, 'tenant = "from-file"\nmax_wait = 30\nconcurrency = 3\n')
    env = {"CLARET_TENANT": "from-env", "CLARET_MAX_WAIT": "45"}
    settings = load_settings({"tenant": "from-flag"}, env=env, cwd=tmp_path)
    assert settings.tenant == "from-flag"
    assert settings.sources["tenant"] == "flag"
    assert settings.max_wait == 45.0
    assert settings.sources["max_wait"] == "env CLARET_MAX_WAIT"
    assert settings.concurrency == 3
    assert settings.sources["concurrency"].startswith("file ")
    assert settings.poll_interval == 5.0
    assert settings.sources.get("poll_interval", "default") == "default"


def test_config_file_found_in_working_directory_or_given_explicitly(tmp_path: Path) -> None:
    """--config wins over the file in the working directory; relative paths resolve beside the file."""
    write(tmp_path, 'tenant = "cwd"\n')
    other = tmp_path / "elsewhere"
    other.mkdir()
    explicit = write(other, 'tenant = "explicit"\nowners = "owners.toml"\n', "mine.toml")
    settings = load_settings({}, env={}, cwd=tmp_path, config_file=explicit)
    assert settings.tenant == "explicit"
    assert settings.owners == other / "owners.toml"
    assert settings.config_file == explicit


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    """A typo in the file is an exit-2 error naming the file and the key, not a silent default."""
    path = write(tmp_path, 'tennant = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_settings({}, env={}, cwd=tmp_path)
    assert str(path) in str(info.value)
    assert "'tennant'" in str(info.value)
    assert info.value.exit_code == ExitCode.USAGE


def test_bad_value_names_the_problem(tmp_path: Path) -> None:
    """A wrong type says what was expected."""
    write(tmp_path, 'poll_interval = "soon"\n')
    with pytest.raises(ConfigError, match=r"poll_interval.*number of seconds"):
        load_settings({}, env={}, cwd=tmp_path)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    """A broken file is reported with its name, not as a traceback."""
    path = write(tmp_path, "tenant = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_settings({}, env={}, cwd=tmp_path)
    assert str(path) in str(info.value)


def test_secrets_are_refused_in_files(tmp_path: Path) -> None:
    """Tokens belong in the environment, never in a file that gets committed."""
    write(tmp_path, 'token = "1|abc"\n')
    with pytest.raises(ConfigError, match="CLARET_TOKEN"):
        load_settings({}, env={}, cwd=tmp_path)


def test_bad_env_value_names_the_variable(tmp_path: Path) -> None:
    """An environment variable with a wrong value is named in the message."""
    with pytest.raises(ConfigError, match="CLARET_CONCURRENCY"):
        load_settings({}, env={"CLARET_CONCURRENCY": "many"}, cwd=tmp_path)


def test_rules_aliases_units_and_detect_tables_are_parsed(tmp_path: Path) -> None:
    """The extension tables arrive typed, and a bad rule category is refused with its key."""
    write(
        tmp_path,
        """
[import]
allow_record_update = true
[aliases]
item_name = ["Article"]
[units]
gal = "Gallon"
[detect]
row_base = 2
message_columns = "problem"
[[rules]]
name = "cellar-lock"
pattern = "bin .* is locked"
category = "not_allowed"
field = "bin_name"
""",
    )
    settings = load_settings({}, env={}, cwd=tmp_path)
    assert settings.allow_record_update is True
    assert settings.aliases == {"item_name": ("Article",)}
    assert settings.units == {"gal": "Gallon"}
    assert settings.detect.row_base == 2
    assert settings.detect.message_columns == ("problem",)
    assert settings.rules[0].name == "cellar-lock"
    write(tmp_path, '[[rules]]\npattern = "x"\ncategory = "oops"\n')
    with pytest.raises(ConfigError, match=r"rules\[0\]\.category"):
        load_settings({}, env={}, cwd=tmp_path)


def test_example_config_in_repo_is_valid() -> None:
    """The documented example config must load, or the documentation lies."""
    example = Path(__file__).parent.parent / "claret-errors.example.toml"
    settings = load_settings({}, env={}, config_file=example, cwd=example.parent)
    assert settings.tenant
    assert settings.rules


def test_shown_settings_mask_secrets(tmp_path: Path) -> None:
    """`config show` never prints a token or a password."""
    env = {"CLARET_TOKEN": "7|supersecretvalue", "CLARET_PASSWORD": "hunter22"}
    settings = load_settings({}, env=env, cwd=tmp_path)
    text = repr(settings.shown())
    assert "supersecretvalue" not in text
    assert "hunter22" not in text
    assert ("token", "***", "env CLARET_TOKEN") in settings.shown()


def test_every_scalar_setting_works_from_each_place_its_definition_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each scalar is declared once on Settings: its variable sets it, a file sets it unless it is a secret,
    and `run --help` offers exactly the options the definition names."""
    samples = {str: "x@example.com", float: "7", int: "3"}
    hints = get_type_hints(Settings)
    empty = tmp_path / "empty"
    empty.mkdir()
    for name, scalar in SCALARS.items():
        kind = next(t for t in (get_args(hints[name]) or (hints[name],)) if t is not type(None))
        raw = {"tenant": "acme", "base_url": "http://h"}.get(name, samples.get(kind, "some/path"))
        assert load_settings({}, env={scalar.env: raw}, cwd=empty).sources[name] == f"env {scalar.env}"
        write(tmp_path, f"{name} = {raw!r}\n".replace("'", '"'))
        if scalar.secret:
            with pytest.raises(ConfigError, match=scalar.env):
                load_settings({}, env={}, cwd=tmp_path)
        else:
            assert load_settings({}, env={}, cwd=tmp_path).sources[name].startswith("file ")
    assert main(["run", "--help"]) == 0
    shown = capsys.readouterr().out
    offered = {n for n in SCALARS if f"--{n.replace('_', '-')} " in shown}
    assert (
        offered
        == set(OPTION_KEYS)
        == {"tenant", "base_url", "out", "poll_interval", "max_wait", "concurrency", "owners"}
    )
