"""Settings: setup.cfg [release_hook], the version files, and pip's index configuration."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from release_hook import config
from release_hook.errors import UserError
from release_hook.resolve import pipconf


def test_defaults_without_a_section(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    c = config.load(str(tmp_path))
    assert (c.package, c.dockerfiles, c.requirements, c.cuda, c.offline_push) == (
        "numpyro", ("docker/**/Dockerfile*",), None, None, "refuse")


def test_section_values(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text(
        "[release_hook]\npackage = flax\ndockerfiles =\n    images/*.Dockerfile\n    Dockerfile\n"
        "requirements = pyproject.toml\npolicy =\n    images/dev*=latest\ncuda = 12.2\noffline_push = allow\n")
    c = config.load(str(tmp_path))
    assert c.package == "flax"
    assert c.dockerfiles == ("images/*.Dockerfile", "Dockerfile")
    assert c.policies == (("images/dev*", "latest"), ("*", "minimum"))
    assert (c.requirements, c.cuda, c.offline_push) == ("pyproject.toml", "12.2", "allow")


@pytest.mark.parametrize("body, message", [
    ("policy = newest\n", "unknown policy 'newest'"),
    ("offline_push = maybe\n", "offline_push must be refuse or allow"),
])
def test_bad_settings(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "setup.cfg").write_text("[release_hook]\n" + body)
    with pytest.raises(UserError, match=message):
        config.load(str(tmp_path))


@pytest.mark.parametrize("body, line, message", [
    ("package = numpyro\npolcy = docker/*=latest\n", 3, "[release_hook] unknown setting 'polcy': did you mean 'policy'?"),
    ("colour = blue\n", 2, "[release_hook] unknown setting 'colour': known: package, dockerfiles, "),
    ("package =\n", 2, "[release_hook] package: '' is not a package name (like numpyro)"),
    ("package = numpyro==0.1\n", 2, "[release_hook] package: 'numpyro==0.1' is not a package name"),
    ("package numpyro\n", 2, "cannot read: not a setting, a [section] or a comment: 'package numpyro'"),
    ("package = a\n\npackage = b\n", 4, "cannot read: 'package' is set twice in [release_hook]"),
    ("package = a\npolicy =\n    docker/*=latest\n    x=newest\n", 3, "[release_hook] policy: unknown policy 'newest'"),
    ("smoke = perhaps\n", 2, "[release_hook] smoke: expected true or false, not 'perhaps'"),
    ("cuda = abc\n", 2, "[release_hook] cuda: CUDA version 'abc': expected MAJOR.MINOR, like 12.2"),
])
def test_a_bad_setting_is_named_at_its_line(tmp_path: Path, body: str, line: int, message: str) -> None:
    # a misspelt key once ran with the default it was meant to change, and committed
    (tmp_path / "setup.cfg").write_text("[release_hook]\n" + body)
    with pytest.raises(UserError) as e:
        config.load(str(tmp_path))
    assert str(e.value).startswith(f"{tmp_path / 'setup.cfg'}:{line}: {message}"), str(e.value)


@pytest.mark.parametrize("text, line, message", [
    ("name = x\n[release_hook]\npackage = numpyro\n", 1, "cannot read: File contains no section headers."),
])
def test_a_setup_cfg_configparser_cannot_read_is_one_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    (tmp_path / "setup.cfg").write_text(text)
    with pytest.raises(UserError) as e:
        config.load(str(tmp_path))
    assert str(e.value).startswith(f"{tmp_path / 'setup.cfg'}:{line}: {message}"), str(e.value)


def test_a_byte_order_mark_and_default_keys_are_read_as_configparser_reads_them(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_bytes(b"\xef\xbb\xbf[DEFAULT]\nfoo = 1\n[release_hook]\npackage = numpyro\n")
    assert config.load(str(tmp_path)).package == "numpyro"


def test_current_version_files_in_order(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no version"):
        config.current_version(str(tmp_path))
    (tmp_path / "pyproject.toml").write_text('[tool.bumpversion]\ncurrent_version = "1.0.0"\n')
    assert config.current_version(str(tmp_path)) == "1.0.0"
    (tmp_path / "setup.cfg").write_text("[bumpversion]\ncurrent_version = 2.0.0\n")
    assert config.current_version(str(tmp_path)) == "2.0.0"
    (tmp_path / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 3.0.0\n")
    assert config.current_version(str(tmp_path)) == "3.0.0"


def test_pip_index_from_config_files_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE", "XDG_CONFIG_DIRS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "nowhere"))
    user = Path(os.environ["HOME"]) / ".config" / "pip"
    user.mkdir(parents=True)
    (user / "pip.conf").write_text("[global]\nindex-url = https://mirror.example.invalid/simple\n"
                                   "extra-index-url = file:///opt/local https://extra.example.invalid/simple/\n")
    assert pipconf.index_urls()[:2] == ["https://mirror.example.invalid/simple/",
                                        "https://extra.example.invalid/simple/"]
    (user / "pip.conf").write_text("[global]\nindex-url = https://a.example.invalid/simple\n"
                                   "[install]\nindex-url = https://b.example.invalid/simple\n")
    assert pipconf.index_urls()[0] == "https://b.example.invalid/simple/"  # [install] wins
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:1/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    assert pipconf.index_urls() == ["http://127.0.0.1:1/simple/"]
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_INDEX_URL")
    from pip._internal.models.index import PyPI

    assert pipconf.index_urls() == [PyPI.simple_url.rstrip("/") + "/"]  # no config at all: pip's own default
