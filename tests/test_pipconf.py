"""pip's configuration as pip reads it (pip 23-25 on Unix): which files, in which order,
PIP_CONFIG_FILE replacing the user's files, os.devnull, [install] over [global], PIP_*
variables over both. The same settings are checked against pip's own `pip config list`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from release_hook.cli import main
from release_hook.resolve import pipconf


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The global, user (legacy and XDG) and PIP_CONFIG_FILE places, all under tmp_path."""
    for name in [n for n in os.environ if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    home = Path(os.environ["HOME"])
    places = {"global": tmp_path / "xdg-a" / "pip" / "pip.conf",
              "global2": tmp_path / "xdg-b" / "pip" / "pip.conf",
              "legacy": home / ".pip" / "pip.conf",
              "user": home / ".config" / "pip" / "pip.conf",
              "env": tmp_path / "team" / "pip.conf"}
    for path in places.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{tmp_path / 'xdg-a'}{os.pathsep}{tmp_path / 'xdg-b'}")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    assert not Path(sys.prefix, "pip.conf").exists()  # the site file would take part
    return places


def index(name: str) -> str:
    return f"[global]\nindex-url = https://{name}.example.invalid/simple\n"


def pip_says(key: str) -> str | None:
    """pip's own answer (`pip config list`) in this environment."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                         env=os.environ.copy(), check=True).stdout
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    value = values.get(key)
    return value.strip().strip("'") if value is not None else None


def test_later_files_override_earlier_ones_in_pips_order(files: dict[str, Path]) -> None:
    files["global"].write_text(index("global-a"))
    files["global2"].write_text(index("global-b"))
    assert pipconf.index_urls() == ["https://global-b.example.invalid/simple/"]  # XDG_CONFIG_DIRS in order
    files["legacy"].write_text(index("legacy"))
    assert pipconf.index_urls() == ["https://legacy.example.invalid/simple/"]
    files["user"].write_text(index("user"))
    assert pipconf.index_urls() == ["https://user.example.invalid/simple/"]
    assert pip_says("global.index-url") == "https://user.example.invalid/simple"


def test_pip_config_file_replaces_the_users_files_and_overrides_the_global_ones(
        files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    files["global"].write_text(index("global") + "timeout = 7\n")
    files["user"].write_text(index("user") + "retries = 9\n")
    files["env"].write_text(index("team"))
    monkeypatch.setenv("PIP_CONFIG_FILE", str(files["env"]))
    conf = pipconf.settings()
    assert conf.index_urls() == ["https://team.example.invalid/simple/"]
    assert conf.retries is None  # the user's file is not read at all
    assert conf.timeout == 7.0  # the global one is
    assert pip_says("global.retries") is None and pip_says("global.timeout") == "7"
    # a PIP_CONFIG_FILE that does not exist leaves the user's files in place, as in pip
    monkeypatch.setenv("PIP_CONFIG_FILE", str(files["env"].with_name("missing.conf")))
    assert pipconf.settings().retries == 9 and pipconf.index_urls() == ["https://user.example.invalid/simple/"]


def test_devnull_reads_no_file_but_the_variables_still_count(files: dict[str, Path],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for place in ("global", "user"):
        files[place].write_text(index(place) + "cert = /etc/ssl/corporate.pem\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    conf = pipconf.settings()
    assert conf.cert is None
    from pip._internal.models.index import PyPI

    assert conf.index_urls() == [PyPI.simple_url.rstrip("/") + "/"]
    monkeypatch.setenv("PIP_CERT", "/tmp/ca.pem")
    assert pipconf.settings().cert == "/tmp/ca.pem"


def test_install_section_then_variables_win_and_aliases_and_empty_values(files: dict[str, Path],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    files["user"].write_text("[install]\nindex_url = https://install.example.invalid/simple\n"
                             "trusted-host = mirror.example.invalid other.example.invalid:8443\n"
                             "[global]\nindex-url = https://global.example.invalid/simple\n"
                             "default-timeout = 3\nextra-index-url =\n    https://x.example.invalid/simple\n"
                             "    https://y.example.invalid/simple\nno-index = no\nclient-cert = \n")
    conf = pipconf.settings()
    assert conf.index_urls() == ["https://install.example.invalid/simple/", "https://x.example.invalid/simple/",
                                 "https://y.example.invalid/simple/"]
    assert conf.timeout == 3.0 and conf.no_index is False and conf.client_cert is None
    assert conf.trusted_hosts == ("mirror.example.invalid", "other.example.invalid:8443")
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.example.invalid/simple")
    monkeypatch.setenv("PIP_TIMEOUT", "4.5")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")  # empty: unset, as pip takes it
    conf = pipconf.settings()
    assert conf.index_urls()[0] == "https://env.example.invalid/simple/" and len(conf.index_urls()) == 3
    assert conf.timeout == 4.5
    monkeypatch.setenv("PIP_NO_INDEX", "yes")
    assert pipconf.index_urls() == []


@pytest.mark.parametrize("text, said", [
    ("[global\nindex-url = x\n", "pip.conf:1: pip's configuration does not parse"),
    ("[global]\nno-index = perhaps\n", "pip's setting no-index = 'perhaps' is not a yes/no value"),
    ("[global]\nretries = many\n", "pip's setting retries = 'many' is not a number"),
])
def test_a_configuration_pip_refuses_is_one_line_and_exit_2(files: dict[str, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str], text: str,
                                                           said: str) -> None:
    files["user"].write_text(text)
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nRUN pip install numpyro==0.6.0 jax==0.2.10\n")
    os.chdir(tmp_path)
    code = main(["sync", "Dockerfile", "--version", "0.7.0", "--no-commit"])
    err = capsys.readouterr().err
    assert code == 2 and said in err and len(err.splitlines()) == 1, err
    assert "0.6.0" in (tmp_path / "Dockerfile").read_text()


def test_uv_is_given_the_same_settings(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """uv reads no pip configuration: the proof passes what pip would use, from this one reader."""
    from release_hook.resolve import uvcli

    for name in ("SSL_CERT_FILE", "SSL_CLIENT_CERT", "HTTPS_PROXY", "HTTP_PROXY", "UV_HTTP_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("UV_INDEX_URL", "https://uv-only.example.invalid/simple")  # pip's settings alone decide
    files["env"].write_text("[global]\nindex-url = https://mirror.example.invalid/simple\n"
                            "extra-index-url = https://extra.example.invalid/simple\n"
                            "find-links = https://links.example.invalid/page.html\n"
                            "trusted-host = mirror.example.invalid\ncert = /etc/ca.pem\n"
                            "client-cert = /etc/me.pem\nproxy = http://proxy.example.invalid:3128\n"
                            "retries = 2\ntimeout = 9\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(files["env"]))
    monkeypatch.delenv("RELEASE_HOOK_TIMEOUT", raising=False)
    assert uvcli.index_options() == [
        "--index-url", "https://mirror.example.invalid/simple",
        "--extra-index-url", "https://extra.example.invalid/simple",
        "--find-links", "https://links.example.invalid/page.html",
        "--allow-insecure-host", "mirror.example.invalid",
        # the user's own indexes, best match across all as pip does: the proof and a re-lock alike
        "--index-strategy", "unsafe-best-match"]
    env = uvcli.environment()
    assert {k: env.get(k) for k in ("SSL_CERT_FILE", "SSL_CLIENT_CERT", "HTTPS_PROXY", "UV_HTTP_RETRIES",
                                    "UV_HTTP_TIMEOUT", "UV_INDEX_URL")} == {
        "SSL_CERT_FILE": "/etc/ca.pem", "SSL_CLIENT_CERT": "/etc/me.pem",
        "HTTPS_PROXY": "http://proxy.example.invalid:3128", "UV_HTTP_RETRIES": "2", "UV_HTTP_TIMEOUT": "9",
        "UV_INDEX_URL": None}
