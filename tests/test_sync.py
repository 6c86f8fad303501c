"""`sync` end to end on files: byte-exact rewrites, check and dry-run, errors that change nothing."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

PINS = ("--pin", "jax==0.4.2", "--pin", "jaxlib==0.4.2")


def copy_fixture(tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copyfile(FIXTURES / name, dst)
    return dst


def changed_bytes(before: bytes, after: bytes) -> list[tuple[bytes, bytes]]:
    """The differing runs between two byte strings, aligned with difflib."""
    import difflib

    sm = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [(before[a1:a2], after[b1:b2]) for op, a1, a2, b1, b2 in sm.get_opcodes() if op != "equal"]


def test_rewrites_only_version_bytes(cli, tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "variables.Dockerfile")
    before = path.read_bytes()
    r = cli("sync", str(path), "--version", "0.7.0", "--pin", "jax==0.4.13",
            "--pin", "jaxlib==0.4.13+cuda12.cudnn89", "--no-commit")
    assert r.code == 0, r.err
    after = path.read_bytes()
    assert after == (before.replace(b"JAX_VERSION=0.4.1", b"JAX_VERSION=0.4.13")
                     .replace(b'JAXLIB_VERSION="0.4.1"', b'JAXLIB_VERSION="0.4.13"')
                     .replace(b"JAXLIB_CUDA=cuda11.cudnn86", b"JAXLIB_CUDA=cuda12.cudnn89")
                     .replace(b"NUMPYRO_VERSION=0.6.0", b"NUMPYRO_VERSION=0.7.0")
                     .replace(b"LEGACY_JAX 0.4.1", b"LEGACY_JAX 0.4.13"))
    assert "variables.Dockerfile:11: jax 0.4.1 -> 0.4.13 (set at line 7)\n" in r.out
    assert "variables.Dockerfile:11: jaxlib 0.4.1+cuda11.cudnn86 -> 0.4.13+cuda12.cudnn89 (set at lines 6, 8)\n" in r.out


def test_a_list_of_packages_in_an_env_is_rewritten_where_it_is_set(cli, tmp_path: Path) -> None:
    """`RUN pip install $PKGS` installs each word of the ENV value: the versions move there,
    and the check names the line they are set at."""
    path = tmp_path / "Dockerfile"
    text = ('FROM python:3.11\nENV PKGS="jax==0.4.1 jaxlib==0.4.1" PIP="python3.11 -m pip"\n'
            "RUN $PIP install $PKGS 'numpy<2' 'scipy<1.13' numpyro==0.6.0\n")
    path.write_text(text)
    r = cli("sync", str(path), "--version", "0.6.0", *PINS, "--offline", "--check")
    assert r.code == 1 and "Dockerfile:3: jax ==0.4.1, expected 0.4.2 (set at line 2)" in r.out, r.out + r.err
    r = cli("sync", str(path), "--version", "0.6.0", *PINS, "--offline", "--no-commit")
    assert r.code == 0, r.err
    assert path.read_text() == text.replace("jax==0.4.1 jaxlib==0.4.1", "jax==0.4.2 jaxlib==0.4.2")


def test_crlf_bom_no_final_newline_and_escape_directive(cli, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    original = (b"\xef\xbb\xbf# escape=`\r\nFROM python:3.11\r\nENV JAX_VERSION 0.4.1\r\n"
                b"RUN pip install `\r\n# comment\r\n  jax==$JAX_VERSION `\r\n\tnumpyro==0.6.0")
    path.write_bytes(original)
    r = cli("sync", str(path), "--version", "0.7.0", "--pin", "jax==0.4.2", "--no-commit")
    assert r.code == 0, r.err
    assert changed_bytes(original, path.read_bytes()) == [(b"1", b"2"), (b"6", b"7")]
    assert path.read_bytes().endswith(b"\tnumpyro==0.7.0")
    # and back again restores the original exactly
    r = cli("sync", str(path), "--version", "0.6.0", "--pin", "jax==0.4.1", "--no-commit")
    assert r.code == 0, r.err
    assert path.read_bytes() == original


def test_in_step_file_is_not_written(cli, tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "literal.Dockerfile")
    os.utime(path, (1_000_000, 1_000_000))
    r = cli("sync", str(path), "--version", "0.6.0", "--pin", "jax==0.4.1", "--pin", "jaxlib==0.4.1",
            "--pin", "jax-cuda12-plugin==0.4.31", "--pin", "jax-cuda12-pjrt==0.4.31", "--no-commit")
    assert r.code == 0, r.err
    assert path.stat().st_mtime == 1_000_000
    assert path.read_bytes() == (FIXTURES / "literal.Dockerfile").read_bytes()


def test_check_names_file_line_and_pin(cli, tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "numpyro-2021.Dockerfile")
    r = cli("sync", str(path), "--version", "0.7.0", "--pin", "jax==0.2.13",
            "--pin", "jaxlib==0.1.65", "--check")
    assert r.code == 1
    assert r.out.splitlines() == [
        f"{path.name}:21: jax ==0.2.10, expected 0.2.13",
        f"{path.name}:21: jaxlib ==0.1.62+cuda112, expected 0.1.65+cuda112",
        f"{path.name}:23: numpyro ==0.6.0, expected 0.7.0",
    ]
    assert path.read_bytes() == (FIXTURES / "numpyro-2021.Dockerfile").read_bytes()
    r = cli("sync", str(path), "--version", "0.6.0", "--pin", "jax==0.2.10", "--pin",
            "jaxlib==0.1.62", "--check")
    assert (r.code, r.out) == (0, "")


def test_dry_run_prints_a_diff_and_writes_nothing(cli, tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "numpyro-2021.Dockerfile")
    r = cli("sync", str(path), "--version", "0.7.0", "--pin", "jax==0.2.13", "--pin",
            "jaxlib==0.1.65+cuda111", "--dry-run")
    assert r.code == 0
    assert "-RUN pip3 install --upgrade jax==0.2.10 jaxlib==0.1.62+cuda112 \\\n" in r.out
    assert "+RUN pip3 install --upgrade jax==0.2.13 jaxlib==0.1.65+cuda111 \\\n" in r.out
    assert "+RUN pip3 install numpyro==0.7.0\n" in r.out
    assert path.read_bytes() == (FIXTURES / "numpyro-2021.Dockerfile").read_bytes()


def test_pin_jaxlib_without_tag_keeps_the_files_tag(cli, tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "numpyro-2021.Dockerfile")
    assert cli("sync", str(path), "--version", "0.6.0", "--pin", "jaxlib==0.1.65", "--pin",
               "jax==0.2.10", "--no-commit").code == 0
    assert b"jaxlib==0.1.65+cuda112 " in path.read_bytes()
    assert cli("sync", str(path), "--version", "0.6.0", "--pin", "jaxlib==0.1.66+cuda111", "--pin",
               "jax==0.2.10", "--no-commit").code == 0
    assert b"jaxlib==0.1.66+cuda111 " in path.read_bytes()


def test_pin_for_a_package_no_file_pins_is_refused(cli, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nRUN pip install numpyro==0.6.0 jax==0.4.1\n")
    r = cli("sync", str(path), "--version", "0.7.0", "--pin", "jax==0.4.2", "--pin", "jaxlb==0.4.2",
            "--no-commit")
    assert (r.code, r.out) == (2, "")
    assert r.err == "release-hook: --pin jaxlb: no Dockerfile pins jaxlb; pinned: jax, numpyro\n"
    assert path.read_text() == "FROM a\nRUN pip install numpyro==0.6.0 jax==0.4.1\n"


def test_composite_variable_form_must_fit(cli, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nARG V=0.1.62\nARG CUDA=112\n"
                    "RUN pip install jaxlib==${V}+cuda${CUDA} numpyro==0.6.0\n")
    r = cli("sync", str(path), "--version", "0.7.0", "--pin", "jaxlib==0.1.65+cuda111", "--no-commit")
    assert r.code == 0, r.err
    assert path.read_text() == ("FROM a\nARG V=0.1.65\nARG CUDA=111\n"
                                "RUN pip install jaxlib==${V}+cuda${CUDA} numpyro==0.7.0\n")
    r = cli("sync", str(path), "--version", "0.8.0", "--pin", "jaxlib==0.4.1+cuda11.cudnn86",
            "--no-commit")
    assert r.code == 0, r.err
    assert "ARG CUDA=11.cudnn86\n" in path.read_text()
    before = path.read_bytes()
    # jaxlib 0.4.30 has no tagged CUDA build: the file's form cannot say it
    r = cli("sync", str(path), "--version", "0.9.0", "--pin", "jaxlib==0.4.30", "--no-commit")
    assert r.code == 2
    assert r.err.strip() == ("release-hook: Dockerfile:4: jaxlib 0.4.30 has no CUDA build of its own "
                             "(from 0.4.30 CUDA comes from jax-cuda12-plugin): pin the plugin, or "
                             "jax[cuda12], in a's stage")
    assert path.read_bytes() == before


def test_a_loop_over_package_names_is_moved_in_step_and_refused_when_they_part(cli, tmp_path: Path) -> None:
    """One `0.4.1` installs both jax and jaxlib through a loop: it moves when they move together,
    and a release that needs them apart is refused with nothing written."""
    path = tmp_path / "Dockerfile"
    text = ("FROM python:3.11\nRUN for p in jax jaxlib; do pip install $p==0.4.1; done\n"
            "RUN for v in 0.6.0; do pip install numpyro==$v; done\n")
    path.write_text(text)
    r = cli("sync", str(path), "--version", "0.7.0", "--pin", "jax==0.4.2", "--pin", "jaxlib==0.4.3",
            "--offline", "--no-commit")
    assert (r.code, path.read_text()) == (2, text)
    assert r.err == ("release-hook: Dockerfile:2: jaxlib needs '0.4.3' where jax (line 2) needs '0.4.2': give "
                     "each a version of its own (its own variable, or its pin written out)\n")
    r = cli("sync", str(path), "--version", "0.7.0", *PINS, "--offline", "--no-commit")
    assert r.code == 0, r.err
    assert path.read_text() == text.replace("$p==0.4.1", "$p==0.4.2").replace("in 0.6.0", "in 0.7.0")


def test_one_variable_two_different_targets_is_an_error(cli, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nARG V=0.4.1\nRUN pip install jax==$V jaxlib==$V\n")
    r = cli("sync", str(path), "--version", "1", "--pin", "jax==0.4.2", "--pin", "jaxlib==0.4.3",
            "--no-commit")
    assert r.code == 2
    assert "give each a version of its own (its own variable" in r.err
    r = cli("sync", str(path), "--version", "1", "--pin", "jax==0.4.2", "--pin", "jaxlib==0.4.2",
            "--no-commit")
    assert r.code == 0
    assert "ARG V=0.4.2\n" in path.read_text()


def test_a_variable_one_pin_changes_must_not_move_another_pin_that_reads_it(cli, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    before = "FROM a\nARG MAJ=0.4\nARG MIN=20\nRUN pip install numpyro==0.6.0 jax==${MAJ}.${MIN} jaxlib==${MAJ}.20\n"
    path.write_text(before)
    r = cli("sync", str(path), "--version", "1", "--pin", "jax==0.5.0", "--pin", "jaxlib==0.4.20", "--no-commit")
    assert (r.code, r.err) == (2, "release-hook: Dockerfile:4: jaxlib would read '0.5.20' instead of '0.4.20': its "
                                  "version shares characters with another pin's; give each a version of its own\n")
    assert path.read_text() == before
    # each variable keeps its shape: MAJ stays 0.4 and MIN takes 30 (not MAJ=0, MIN=4.30, which
    # jax would read rightly and jaxlib as 0.20)
    r = cli("sync", str(path), "--version", "1", "--pin", "jax==0.4.30", "--pin", "jaxlib==0.4.20", "--no-commit")
    assert r.code == 0, r.err
    assert path.read_text().startswith("FROM a\nARG MAJ=0.4\nARG MIN=30\n")


def test_folders_and_config_globs(cli, tmp_path: Path) -> None:
    (tmp_path / "docker" / "release").mkdir(parents=True)
    (tmp_path / "images").mkdir()
    pinned = "FROM a\nRUN pip install numpyro==0.6.0\n"
    for rel in ("docker/release/Dockerfile", "images/gpu.Dockerfile", "images/Dockerfile.cpu",
                "images/x.dockerfile", "images/notes.txt"):
        (tmp_path / rel).write_text(pinned)
    # BuildKit's ignore file for one Dockerfile is named like one, and is never read as one
    for rel in ("docker/release/Dockerfile.dockerignore", "images/Dockerfile.cpu.dockerignore"):
        (tmp_path / rel).write_text("# ignore\n*.pyc\n.git\n")
    r = cli("sync", "images", "--version", "0.7.0", "--no-commit")
    assert r.code == 0, r.err
    assert sorted(p.name for p in (tmp_path / "images").iterdir()
                  if "0.7.0" in p.read_text()) == ["Dockerfile.cpu", "gpu.Dockerfile", "x.dockerfile"]
    assert "0.6.0" in (tmp_path / "docker/release/Dockerfile").read_text()
    # no PATH: the globs of setup.cfg, default docker/**/Dockerfile*
    (tmp_path / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.8.0\n")
    (tmp_path / "docker" / ".old").mkdir()
    (tmp_path / "docker" / ".old" / "Dockerfile").write_text(pinned)
    assert cli("sync", "--no-commit").code == 0
    assert "numpyro==0.8.0" in (tmp_path / "docker/release/Dockerfile").read_text()
    assert (tmp_path / "docker/.old/Dockerfile").read_text() == pinned  # hidden: never selected
    (tmp_path / "setup.cfg").write_text("[release_hook]\ndockerfiles = images/*.Dockerfile\n")
    assert cli("sync", "--no-commit", "--version", "0.9.0").code == 0
    assert "numpyro==0.9.0" in (tmp_path / "images/gpu.Dockerfile").read_text()
    assert "numpyro==0.8.0" in (tmp_path / "docker/release/Dockerfile").read_text()


def test_two_spellings_of_one_pinned_version_are_one_pin(cli, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM python:3.11\nRUN pip install numpyro==0.13.2 jax==0.4.20 jaxlib==0.4.20\n")
    r = cli("sync", "Dockerfile", "--no-commit", "--offline", "--version", "0.13.2", "--pin", "jax==0.4.30",
            "--pin", "jax==0.4.30.0", "--pin", "jaxlib==0.4.30", cwd=tmp_path)
    assert r.code == 0, r.err
    assert "jax==0.4.30 jaxlib==0.4.30\n" in path.read_text()  # the first spelling is written


def test_version_from_bumpversion_env(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nRUN pip install numpyro==0.6.0\n")
    (tmp_path / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.6.0\n")
    monkeypatch.setenv("BUMPVERSION_NEW_VERSION", "0.7.0")
    assert cli("sync", "Dockerfile", "--no-commit").code == 0
    assert "numpyro==0.7.0" in path.read_text()
    monkeypatch.setenv("BUMPVERSION_NEW_VERSION", "0.8.0 ")  # written as given, it would break the pin
    r = cli("sync", "Dockerfile", "--no-commit")
    assert (r.code, r.err) == (2, "release-hook: BUMPVERSION_NEW_VERSION: '0.8.0 ' has spaces around it; "
                                  "give the version alone\n")
    assert "numpyro==0.7.0\n" in path.read_text()


@pytest.mark.parametrize("args, message", [
    (("--version", "not a version"), "--version: 'not a version' is not a valid PEP 440 version"),
    (("--pin", "jax==0.4.x"), "--pin 'jax==0.4.x': '0.4.x' is not a valid PEP 440 version"),
    (("--pin", "jax>=0.4"), "--pin 'jax>=0.4': expected NAME==VERSION"),
    (("--version", " 1.0"), "--version: ' 1.0' has spaces around it; give the version alone"),
    (("--cuda", "twelve"), "--cuda: CUDA version 'twelve': expected MAJOR.MINOR, like 12.2"),
    (("--pin", "jax==0.4.30", "--pin", "JAX==0.4.31"),
     "--pin 'JAX==0.4.31': jax is already pinned to 0.4.30; give one version"),
])
def test_bad_arguments(cli, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nRUN pip install numpyro==0.6.0\n")
    full = ("sync", "Dockerfile", "--no-commit") + (args if "--version" in args else args + ("--version", "1.0"))
    r = cli(*full)
    assert (r.code, r.err) == (2, f"release-hook: {message}\n")
    assert path.read_text() == "FROM a\nRUN pip install numpyro==0.6.0\n"


@pytest.mark.parametrize("content, message", [
    (b"FROM a\nRUN pip install \\\n  numpyro==0.6.0 \\\n", r"bad:2: line continuation '\\' at end of file"),
    (b"FROM a\nRUN <<EOF\npip install numpyro==0.6.0\n", "bad:2: unterminated heredoc <<EOF"),
    (b"FROM a\nRUN pip install numpyro==0.6.0\n\x00\x01", "bad: binary file, not a Dockerfile"),
    (b"FROM a\n# caf\xe9\nRUN pip install numpyro==0.6.0\n", r"bad:2: not UTF-8 text \(byte 0xe9\)"),
    (b"FROM a\nRUN pip install 'numpyro==0.6.0)'\n", "bad:2: cannot parse requirement"),
    (b"FROM a\nRUN pip install numpyro==$NOPE\n", r"bad:2: numpyro pin uses \$\{NOPE\}"),
    (b"FROM a\nENV V=\"0.6.0\nRUN pip install numpyro==$V\n", r"bad:2: ENV: the \" quote is not closed"),
    (b"FROM a\nRUN pip install \"numpyro==0.6.0 scipy\n",  # a check that read no pin would pass
     r"bad:2: shell syntax error \(an unclosed quote\?\): numpyro==0.6.0 after it cannot be read; fix this RUN"),
    (b"# escape=`\n# escape=\\\nFROM a\nRUN pip install numpyro==0.6.0\n",
     r"bad:2: the parser directive 'escape' is given twice; keep one"),
    (b"FROM a\nARG V=0.6.0   # don't bump by hand\nRUN pip install numpyro==$V\n",
     r"bad:2: ARG: a comment must have its own line in a Dockerfile \(here '#' and what follows are read as "
     r"more ARG words\); move it above this line"),
])
def test_bad_files_change_nothing(cli, tmp_path: Path, content: bytes, message: str) -> None:
    good = tmp_path / "good"
    good.write_bytes(b"FROM a\nRUN pip install numpyro==0.6.0\n")
    bad = tmp_path / "bad"
    bad.write_bytes(content)
    r = cli("sync", "good", "bad", "--version", "0.7.0", "--no-commit")
    assert r.code == 2
    import re
    assert re.fullmatch(r"release-hook: " + message + r".*\n", r.err), r.err
    assert good.read_bytes() == b"FROM a\nRUN pip install numpyro==0.6.0\n"
    assert bad.read_bytes() == content


def test_missing_and_read_only_files(cli, tmp_path: Path) -> None:
    r = cli("sync", "nope/Dockerfile", "--version", "0.7.0", "--no-commit")
    assert (r.code, r.err) == (2, "release-hook: no Dockerfile matches 'nope/Dockerfile' (PATH of the command line)\n")
    good = tmp_path / "a.Dockerfile"
    good.write_text("FROM a\nRUN pip install numpyro==0.6.0\n")
    ro = tmp_path / "b.Dockerfile"
    ro.write_text("FROM a\nRUN pip install numpyro==0.6.0\n")
    ro.chmod(0o444)
    r = cli("sync", str(good), str(ro), "--version", "0.7.0", "--no-commit")
    assert (r.code, r.err) == (2, "release-hook: b.Dockerfile: file is read-only; nothing written\n")
    assert "0.6.0" in good.read_text() and "0.6.0" in ro.read_text()


def test_unreadable_file(cli, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.mkdir()
    r = cli("sync", str(path / ".."), "--version", "0.7.0", "--no-commit")
    # a folder named Dockerfile is searched, not read; it holds none
    assert (r.code, r.err) == (2, f"release-hook: {path / '..'}: no Dockerfile in this folder (names "
                               "searched: Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile)\n")
    r = cli("sync", "Dockerfile/", "--version", "0.7.0", "--no-commit")
    assert r.code == 2 and "no Dockerfile in this folder" in r.err


def test_permissions_are_kept(cli, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nRUN pip install numpyro==0.6.0\n")
    path.chmod(0o640)
    assert cli("sync", "Dockerfile", "--version", "0.7.0", "--no-commit").code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile", "home"] or \
        sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "home"]


def test_module_and_console_script(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nRUN pip install numpyro==0.6.0\n")
    for cmd in ([sys.executable, "-m", "release_hook"],
                [str(Path(sys.executable).with_name("release-hook"))]):
        r = subprocess.run([*cmd, "sync", "Dockerfile", "--version", "0.7.0", "--check"],
                           cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 1, r.stderr
        assert r.stdout == "Dockerfile:2: numpyro ==0.6.0, expected 0.7.0\n"
    r = subprocess.run([sys.executable, "-m", "release_hook", "sync", "missing"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr


def test_version_split_by_a_continuation_is_refused(cli, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    text = "FROM a\nRUN pip install numpyro==0.6.\\\n0\n"
    path.write_text(text)
    r = cli("sync", "Dockerfile", "--version", "0.7.0", "--no-commit")
    assert r.code == 2 and r.err.startswith("release-hook: Dockerfile:2: cannot write numpyro 0.7.0")
    assert path.read_text() == text
