"""Proof by import: real virtualenvs of a Python on this machine, made and filled by the real uv
from wheels served on loopback, whose imports pass or fail; the bisect over candidates; the
shipped table of import breaks; `--smoke` and its settings."""
from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import pytest

from pkgindex import PackageIndex, served_as_pips_index
from release_hook.resolve import import_search, import_table, pythons, smoke
from release_hook.resolve.import_search import Release, newest_that_imports
from release_hook.resolve.smoke import FAILS, IMPORTS, UNPROVED, SmokeSet, Settings, Target

HERE = sys.version_info[:2]  # the Python running the tests is on this machine
MACHINE = smoke.at_hand(Target(HERE)) == ""
needs_this_machine = pytest.mark.skipif(not MACHINE, reason="not a linux/amd64 or linux/arm64 machine")

# jax's stand-in: `jit`, `jax.numpy`, and `jax.experimental.pjit.pjit_p` until 0.5.0 removes it.
JAX_VERSIONS = [f"0.{minor}.{patch}" for minor in range(1, 9) for patch in (0, 1)]
BREAK = "0.5.0"
NUMPY = """\
class Array(list):
    def __mul__(self, other):
        return Array(a * b for a, b in zip(self, other))

    def sum(self):
        return float(sum(list(self)))  # the builtin: a method's name is not in scope


def arange(n):
    return Array(float(i) for i in range(int(n)))


def asarray(x):
    return x
"""


def jax_files(version: str) -> dict[str, str]:
    old = tuple(map(int, version.split("."))) < tuple(map(int, BREAK.split(".")))
    return {"jax/__init__.py": f"__version__ = {version!r}\nfrom jax import numpy\n\n\ndef jit(f):\n    return f\n",
            "jax/numpy/__init__.py": "import numpy as _np\n\n\ndef arange(n):\n    return _np.arange(n)\n",
            "jax/experimental/__init__.py": "",
            "jax/experimental/pjit.py": "pjit_p = object()\n" if old else "pjit = None\n"}


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    idx = PackageIndex(tmp_path / "index")
    idx.wheel("numpy", "1.0.0", files={"numpy/__init__.py": NUMPY})
    for v in JAX_VERSIONS:
        idx.wheel("jax", v, ["numpy"], files=jax_files(v))
        idx.wheel("jaxlib", v)
    idx.wheel("numpyro", "0.13.0", ["jax>=0.1.0"],
              files={"numpyro/__init__.py": "from jax.experimental.pjit import pjit_p\n"})
    idx.wheel("numpyro", "0.19.0", ["jax>=0.1.0"], files={"numpyro/__init__.py": "import jax\n"})
    idx.wheel("sleepy", "1.0", files={"sleepy/__init__.py": "import time\ntime.sleep(60)\n"})
    with served_as_pips_index(idx, monkeypatch):
        yield idx


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.delenv(smoke.DOWNLOADS_VARIABLE, raising=False)
    monkeypatch.delenv(smoke.TIMEOUT_VARIABLE, raising=False)
    # One uv cache for this file's tests, as a user has one: uv asks each Python on PATH for
    # its version once, not per test. Each test's index has its own port, so no wheel is shared.
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "uv-cache"))


def here() -> Target:
    if isinstance(pythons.find(HERE), str):
        pytest.skip(f"uv finds no Python {HERE[0]}.{HERE[1]} here")
    return Target(HERE)


def release_set(jax: str, release: str = "0.13.0") -> SmokeSet:
    return SmokeSet((f"numpyro=={release}", f"jax=={jax}"))


# -- finding a Python ---------------------------------------------------------------------------

def test_pyenv_shims_give_way_to_its_versions(tmp_path: Path) -> None:
    root = tmp_path / "pyenv"
    for v in ("3.12.1", "3.8.18"):
        (root / "versions" / v / "bin").mkdir(parents=True)
    (root / "shims").mkdir()
    (root / "plugins" / "pyenv-virtualenv" / "shims").mkdir(parents=True)
    path = os.pathsep.join([str(root / "plugins" / "pyenv-virtualenv" / "shims"), str(root / "shims"), "/usr/bin"])
    assert pythons.search_path(path).split(os.pathsep) == [
        "/usr/bin", str(root / "versions" / "3.12.1" / "bin"), str(root / "versions" / "3.8.18" / "bin")]
    assert pythons.search_path("/usr/bin:/bin") == "/usr/bin:/bin"  # no pyenv: PATH as it is
    # the minor version looked for first, Python 2 last: uv asks each one before it what it is
    (root / "versions" / "2.7.18" / "bin").mkdir(parents=True)
    assert pythons.search_path(path, prefer="3.8").split(os.pathsep) == [
        "/usr/bin", str(root / "versions" / "3.8.18" / "bin"), str(root / "versions" / "3.12.1" / "bin"),
        str(root / "versions" / "2.7.18" / "bin")]


def test_this_python_is_found_and_an_absent_one_is_named() -> None:
    found = pythons.find(HERE)
    assert not isinstance(found, str), found
    assert found.version.startswith("{}.{}.".format(*HERE)) and os.path.isfile(found.path)
    missing = pythons.find((3, 99))
    assert missing == ("no Python 3.99 on this machine (uv found none; [release_hook] "
                       "smoke_python_downloads = true lets uv install one)")


def test_a_python_found_is_not_looked_for_again_in_the_same_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A search smokes several candidates in one Python: uv looks for it once."""
    looked: list[str] = []
    real = pythons._find

    def counted(uv: str, want: str):  # type: ignore[no-untyped-def]
        looked.append(want)
        return real(uv, want)

    monkeypatch.setattr(pythons, "_find", counted)
    monkeypatch.setattr(pythons, "_found", {}, raising=False)  # a fresh process
    first = pythons.find(HERE)
    assert pythons.find(HERE) == first and looked == ["cpython@{}.{}".format(*HERE)]
    assert pythons.find((3, 99)) == pythons.find((3, 99)) and len(looked) == 3  # an absence is asked again
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", "/nonexistent")  # another environment: looked for again
    assert pythons.find(HERE) == first and len(looked) == 4


# -- one smoke ----------------------------------------------------------------------------------

@needs_this_machine
def test_a_set_that_imports_and_one_that_fails_at_the_import(index: PackageIndex) -> None:
    target = here()
    good = smoke.smoke(release_set("0.4.1"), target, "numpyro")
    assert (good.state, good.cached, good.python[:4]) == (IMPORTS, False, "{}.{}".format(*HERE)[:4])
    assert ("jax", "0.4.1") in good.installed and ("numpy", "1.0.0") in good.installed
    bad = smoke.smoke(release_set("0.5.0"), target, "numpyro")
    assert (bad.state, bad.step) == (FAILS, "import")
    assert bad.reason == "ImportError: cannot import name 'pjit_p' from 'jax.experimental.pjit'"
    assert "fails at import on Python" in str(bad) and "pjit_p" in str(bad)


@needs_this_machine
def test_a_second_run_is_answered_from_the_cache(index: PackageIndex) -> None:
    target = here()
    first = smoke.smoke(release_set("0.5.0"), target, "numpyro")
    hits = len(index.hits)
    start = time.monotonic()
    again = smoke.smoke(SmokeSet(tuple(reversed(release_set("0.5.0").requirements))), target, "numpyro")
    assert time.monotonic() - start < 0.5
    assert len(index.hits) == hits  # neither the index nor uv was asked
    assert again.cached and (again.state, again.reason) == (first.state, first.reason)


@needs_this_machine
def test_a_verdict_is_kept_a_week_for_exact_pins_and_a_day_for_ranges(
        index: PackageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    target, offline = here(), Settings(offline=True)  # what is tried again comes from uv's cache
    exact, loose = release_set("0.4.1"), SmokeSet(("numpyro==0.13.0", "jax<0.5"))
    assert [smoke.smoke(s, target, "numpyro").state for s in (exact, loose)] == [IMPORTS, IMPORTS]
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 2 * 86400)
    assert [smoke.smoke(s, target, "numpyro", how=offline).cached for s in (exact, loose)] == [True, False]
    monkeypatch.setattr(time, "time", lambda: now + 8 * 86400)
    assert smoke.smoke(exact, target, "numpyro", how=offline).cached is False


@needs_this_machine
def test_the_whole_command_counts_constraints_and_all(index: PackageIndex) -> None:
    target = here()
    # an unpinned jax is the newest, which broke numpyro 0.13.0; a constraint holds it back
    assert smoke.smoke(SmokeSet(("numpyro==0.13.0", "jax")), target, "numpyro").state == FAILS
    held = smoke.smoke(SmokeSet(("numpyro==0.13.0", "jax"), constraints=("jax<0.5",)), target, "numpyro")
    assert held.state == IMPORTS and ("jax", "0.4.1") in held.installed


@needs_this_machine
def test_accelerator_packages_and_extras_are_left_out_and_said(index: PackageIndex) -> None:
    # neither the plugin nor jax's extra is on this index: installed, they would fail
    install = SmokeSet(("numpyro==0.19.0", "jax[cuda12]==0.8.1", "jax-cuda12-plugin[with-cuda]==0.8.1"))
    verdict = smoke.smoke(install, here(), "numpyro")
    assert verdict.state == IMPORTS, verdict
    assert verdict.left_out == ("jax's extra [cuda12]", "jax-cuda12-plugin (an accelerator package)")
    assert "left out: jax's extra [cuda12]; jax-cuda12-plugin" in str(verdict)


def test_jaxlibs_cuda_build_is_tried_as_its_cpu_build() -> None:
    cpu, said = smoke.for_cpu(SmokeSet(("jaxlib==0.4.25+cuda12.cudnn89", "jax[cuda12_pip]==0.4.25", "scipy")),
                              smoke.accelerator_packages(["nvidia-cudnn-cu12==9.1"]))
    assert cpu.requirements == ("jaxlib==0.4.25", "jax==0.4.25", "scipy")
    assert said == ("jaxlib 0.4.25+cuda12.cudnn89 (its CPU build 0.4.25 instead)", "jax's extra [cuda12_pip]")


@needs_this_machine
def test_a_set_that_does_not_install_fails_at_the_install(index: PackageIndex) -> None:
    verdict = smoke.smoke(release_set("9.9.9"), here(), "numpyro")
    assert (verdict.state, verdict.step) == (FAILS, "install")
    assert "jax==9.9.9" in verdict.reason


def test_not_at_hand_is_said_and_never_passes(index: PackageIndex) -> None:
    arm = "linux/arm64" if smoke.at_hand(Target(HERE, "linux/amd64")) == "" else "linux/amd64"
    other = smoke.smoke(release_set("0.4.1"), Target(HERE, arm), "numpyro")
    assert other.state == UNPROVED and other.reason.startswith(f"the image is {arm}; this machine is ")
    absent = smoke.smoke(release_set("0.4.1"), Target((3, 99)), "numpyro")
    assert absent.state == UNPROVED and "no Python 3.99 on this machine" in absent.reason
    assert str(absent).startswith("not proved by import: no Python 3.99")
    decided = smoke.smoke(release_set("0.4.1"), Target(HERE, None), "numpyro")
    assert (decided.state, decided.reason) == (UNPROVED, "the build decides the image's platform")
    assert smoke.smoke(release_set("0.4.1"), Target(HERE, glibc=None), "numpyro").state == UNPROVED
    assert not any("/simple/" in h for h in index.hits)  # nothing was installed


@needs_this_machine
def test_an_import_that_hangs_is_ended_and_not_proved(index: PackageIndex) -> None:
    start = time.monotonic()
    verdict = smoke.smoke(SmokeSet(("sleepy==1.0", "jax==0.4.1")), here(), "sleepy", how=Settings(timeout=0.5))
    assert time.monotonic() - start < 30
    assert (verdict.state, verdict.step) == (UNPROVED, "import") and "not done within 0.5s" in verdict.reason


@needs_this_machine
def test_offline_takes_uvs_cache_and_says_what_it_lacks(index: PackageIndex) -> None:
    target = here()
    assert smoke.smoke(release_set("0.4.1"), target, "numpyro").state == IMPORTS
    offline = Settings(offline=True)
    # another set (so no verdict is cached) of the same wheels: uv's cache has them
    again = smoke.smoke(SmokeSet(("numpyro==0.13.0", "jax==0.4.1", "numpy==1.0.0")), target, "numpyro", how=offline)
    assert (again.state, again.cached) == (IMPORTS, False)
    lacking = smoke.smoke(release_set("0.3.0"), target, "numpyro", how=offline)
    assert lacking.state == UNPROVED and lacking.reason.startswith("offline, and uv's cache cannot install it")


def test_pips_options_become_uvs() -> None:
    assert smoke.uv_options([("-f", "https://x/jax_releases.html"), ("--no-deps", ""), ("--pre", ""),
                             ("-i", "https://mirror/simple"), ("--upgrade", ""), ("--weird", "1")]) == [
        "--find-links", "https://x/jax_releases.html", "--no-deps", "--prerelease", "allow",
        "--index-url", "https://mirror/simple"]
    _, said = smoke.for_cpu(SmokeSet(("jax",)), ())
    assert said == () and smoke._unpassed([("--weird", "1"), ("-U", "")]) == ("option --weird",)


def test_settings_come_from_the_config_under_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert smoke.settings().python_downloads is False  # never by default
    assert smoke.settings(python_downloads=True).python_downloads is True
    monkeypatch.setenv(smoke.DOWNLOADS_VARIABLE, "0")
    assert smoke.settings(python_downloads=True).python_downloads is False
    monkeypatch.setenv(smoke.TIMEOUT_VARIABLE, "42")
    assert smoke.settings().timeout == 42.0


# -- the bisect ---------------------------------------------------------------------------------

NEWEST_FIRST = list(reversed(JAX_VERSIONS))


@needs_this_machine
def test_the_newest_jax_that_imports_is_found_in_few_tries(index: PackageIndex) -> None:
    found = newest_that_imports(NEWEST_FIRST, release_set, str, Release("numpyro", "0.13.0"), here())
    assert (found.chosen, found.how) == ("0.4.1", import_search.IMPORT)
    assert found.failed is not None and found.failed[0] == "0.5.0"
    assert "cannot import name 'pjit_p'" in found.failed[1].reason
    assert len(found.tried) <= 2 * math.ceil(math.log2(len(NEWEST_FIRST))) + 1
    tried = dict(found.tried)
    assert all(v.state == (IMPORTS if c < BREAK else FAILS) for c, v in tried.items())
    # every verdict is kept: the same search again runs no install
    hits = len(index.hits)
    again = newest_that_imports(NEWEST_FIRST, release_set, str, Release("numpyro", "0.13.0"), here())
    assert again.chosen == "0.4.1" and all(v.cached for _, v in again.tried) and len(index.hits) == hits


@needs_this_machine
def test_candidates_that_do_not_install_are_passed_over(index: PackageIndex) -> None:
    """A jax with no wheel here (jaxlib missing for that Python, in life) says nothing of where
    the import breaks: its neighbour is asked instead, at the top, in the gallop and the bisect."""
    with_holes = ["9.0.0", *NEWEST_FIRST[:4], "0.6.5", "0.6.4", *NEWEST_FIRST[4:], "0.0.9", "0.0.8"]
    found = newest_that_imports(with_holes, release_set, str, Release("numpyro", "0.13.0"), here())
    assert (found.chosen, found.how) == ("0.4.1", import_search.IMPORT)
    assert found.failed is not None and found.failed[0] == "0.5.0"
    assert any(v.step == "install" for _, v in found.tried)
    # where the gallop lands on one: taken for a failure, it would be named as the break
    landed = newest_that_imports(["0.8.1", "0.7.0", "0.5.0", "0.4.9", "0.4.1", "0.3.0"], release_set, str,
                                 Release("numpyro", "0.13.0"), here())
    assert landed.chosen == "0.4.1" and landed.failed is not None and landed.failed[0] == "0.5.0"
    nothing = newest_that_imports(["9.0.0", "8.0.0"], release_set, str, Release("numpyro", "0.13.0"), here())
    assert (nothing.chosen, len(nothing.tried)) == (None, 2)


@needs_this_machine
def test_a_release_that_imports_the_newest_takes_one_try(index: PackageIndex) -> None:
    found = newest_that_imports(NEWEST_FIRST, lambda j: release_set(j, "0.19.0"), str,
                                Release("numpyro", "0.19.0"), here())
    assert (found.chosen, len(found.tried), found.failed) == ("0.8.1", 1, None)


@needs_this_machine
def test_none_imports(index: PackageIndex) -> None:
    found = newest_that_imports(["0.8.1", "0.7.0", "0.6.1", "0.5.0"], release_set, str,
                                Release("numpyro", "0.13.0"), here())
    # the oldest fails, so (one break, which stays) every newer one does: 0.6.1 is not tried
    assert (found.chosen, found.how) == (None, import_search.IMPORT)
    assert [c for c, _ in found.tried] == ["0.8.1", "0.7.0", "0.5.0"]


def table(tmp_path: Path, rows: dict[str, dict[str, dict[str, object]]]) -> str:
    path = tmp_path / "import_breaks.json"
    path.write_text(json.dumps({"packages": {"numpyro": rows}}))
    return str(path)


def test_without_the_python_the_table_answers(tmp_path: Path, index: PackageIndex) -> None:
    path = table(tmp_path, {"0.13.0": {"3.11": {
        "python": "3.11.7", "proved": "2026-11-24", "last_imports": "0.4.1", "first_fails": "0.5.0",
        "fails_with": "ImportError: cannot import name 'pjit_p' from 'jax.experimental.pjit'"}}})
    found = newest_that_imports(NEWEST_FIRST, release_set, str, Release("numpyro", "0.13.0"),
                                Target((3, 99)), table=path)
    assert (found.chosen, found.how) == ("0.4.1", import_search.TABLE)
    assert found.row is not None and found.row.python == "3.11.7"
    assert str(found).startswith("the shipped table: numpyro 0.13.0 imports up to jax 0.4.1, fails from jax 0.5.0")
    assert "not tried here: no Python 3.99 on this machine" in str(found)
    # a release the table does not know keeps the newest, and says that nothing proved it
    unknown = newest_that_imports(NEWEST_FIRST, release_set, str, Release("numpyro", "0.12.0"),
                                  Target((3, 99)), table=path)
    assert (unknown.chosen, unknown.how) == ("0.8.1", import_search.NOT_PROVED)
    assert str(unknown).startswith("not proved by import: no Python 3.99")


def test_the_shipped_table_is_used_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real table, real jax versions, and no index, no Python: the table's row decides."""
    monkeypatch.delenv(import_table.TABLE_VARIABLE, raising=False)
    rows = import_table.rows("numpyro", "0.13.0")
    assert rows, "the shipped table has numpyro 0.13.0"
    row = rows[0]
    assert row.first_fails is not None and row.last_imports is not None, row
    newer = ["0.10.2", row.first_fails, row.last_imports, "0.4.14"]
    found = newest_that_imports(newer, lambda j: release_set(j), str, Release("numpyro", "0.13.0"),
                                Target((3, 99)), how=Settings(offline=True))
    assert (found.chosen, found.how) == (row.last_imports, import_search.TABLE)


def test_the_shipped_table_is_whole_and_each_row_a_boundary() -> None:
    data = json.loads(Path(import_table.PATH).read_text())
    releases = data["packages"]["numpyro"]
    from packaging.version import Version

    for release, by_python in releases.items():
        for python, row in by_python.items():
            assert row["python"].startswith(python + "."), (release, row)
            assert len(row["proved"]) == 10 and row["newest_tried"], (release, row)
            if row["first_fails"] and row["last_imports"]:
                assert Version(row["last_imports"]) < Version(row["first_fails"]), (release, row)
                assert row["fails_with"], (release, row)
    assert {"0.13.0", "0.19.0"} <= set(releases)


@needs_this_machine
def test_the_table_script_measures_breaks_that_the_table_then_answers(index: PackageIndex, tmp_path: Path) -> None:
    """scripts/build_import_table.py on the loopback index: real imports, rows of what they
    showed, and the search reading those rows where no import can be tried."""
    import importlib.util

    here()
    spec = importlib.util.spec_from_file_location("build_import_table", REPO / "scripts" / "build_import_table.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out, python = tmp_path / "table.json", "{}.{}".format(*HERE)
    assert script.main(["--from", "0.13.0", "--to", "0.19.0", "--python", python, "--output", str(out)]) == 0
    rows = json.loads(out.read_text())["packages"]["numpyro"]
    old, new = rows["0.13.0"][python], rows["0.19.0"][python]
    assert (old["last_imports"], old["first_fails"], old["newest_tried"]) == ("0.4.1", "0.5.0", "0.8.1")
    assert old["fails_with"] == "import: ImportError: cannot import name 'pjit_p' from 'jax.experimental.pjit'"
    assert old["installed"]["jaxlib"] == "0.4.1" and old["python"].startswith(python + ".")
    assert (new["last_imports"], new["first_fails"], new["tries"]) == ("0.8.1", None, 1)
    found = newest_that_imports(NEWEST_FIRST, release_set, str, Release("numpyro", "0.13.0"),
                                Target((3, 99)), table=str(out))
    assert (found.chosen, found.how) == ("0.4.1", import_search.TABLE)


# -- the command line ---------------------------------------------------------------------------

def test_smoke_flag_and_settings(cli, tmp_path: Path) -> None:
    from release_hook import config

    conf = config.from_text(str(tmp_path), "[release_hook]\nsmoke = true\nsmoke_python_downloads = yes\n", "setup.cfg")
    assert (conf.smoke, conf.smoke_python_downloads) == (True, True)
    assert (config.Config(str(tmp_path)).smoke, config.Config(str(tmp_path)).smoke_python_downloads) == (False, False)
    (tmp_path / "setup.cfg").write_text("[release_hook]\nsmoke = maybe\n")
    r = cli("sync", "--version", "1.0", "--check")
    assert r.code == 2 and "smoke: expected true or false, not 'maybe'" in r.err
    import re

    assert re.search(r"^\s+--smoke\b", cli("help", "sync").out, re.MULTILINE)


# -- online -------------------------------------------------------------------------------------

@pytest.mark.parametrize("jax, state", [("0.4.25", FAILS), ("0.4.26", IMPORTS)])
@pytest.mark.skipif(os.environ.get("RELEASE_HOOK_ONLINE") != "1", reason="set RELEASE_HOOK_ONLINE=1")
@pytest.mark.online
def test_online_issue_14_row_5(jax: str, state: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """numpyro 0.19.0 with jax/jaxlib 0.4.25 on Python 3.12: NumPy 2 installs, and jaxlib 0.4.25
    (built for NumPy 1) fails as soon as an array crosses; 0.4.26 imports and computes."""
    if isinstance(pythons.find((3, 12)), str):
        pytest.skip("no Python 3.12 here")
    verdict = smoke.smoke(SmokeSet(("numpyro==0.19.0", f"jax=={jax}", f"jaxlib=={jax}")), Target((3, 12)), "numpyro")
    assert verdict.state == state, verdict
    if state == FAILS:
        assert verdict.step == "import" and "_ARRAY_API not found" in verdict.reason
        assert any(n == "numpy" and v.startswith("2.") for n, v in verdict.installed)


# -- the images' own workflow -------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "images.yml"


def test_each_image_imports_before_it_is_pushed() -> None:
    import yaml

    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["images"]
    steps = job["steps"]
    assert job["env"]["SMOKE"].startswith(smoke.check("numpyro") + ";")  # the tool's own check
    assert not any("sed " in str(s.get("run", "")) for s in steps)
    for context in ("docker/release", "docker/dev"):
        built = [i for i, s in enumerate(steps) if s.get("with", {}).get("context") == context]
        load, push = (next(i for i in built if steps[i]["with"].get(k)) for k in ("load", "push"))
        tried = next(i for i, s in enumerate(steps)
                     if s.get("env", {}).get("IMAGE") == steps[load]["with"]["tags"])
        assert load < tried < push, (context, load, tried, push)
        assert 'docker run --rm -e JAX_PLATFORMS=cpu "$IMAGE" python3 -c "$SMOKE"' in steps[tried]["run"]
        assert steps[load]["with"]["build-args"] == steps[push]["with"]["build-args"]


def test_the_workflow_reads_the_versions_from_syncs_json(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The versions step, run on the tool's own JSON for the repository's Dockerfiles (every
    kept package given with --pin, so nothing is fetched), gives the values the ARGs declare."""
    import yaml

    import re

    pins = [arg for name in ("numpyro==0.22.0", "jax==9.9", "jaxlib==9.9", "jax-cuda12-plugin==9.9",
                             "jax-cuda12-pjrt==9.9") for arg in ("--pin", name)]
    r = cli("sync", "--check", "--format", "json", "--version", "0.22.0", *pins, cwd=REPO)
    assert r.code in (0, 1), r.err
    (tmp_path / "sync.json").write_text(r.out)
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["images"]["steps"]
    assert "--format json | tee sync.json" in next(s["run"] for s in steps if "release_hook" in str(s.get("run")))
    code = next(s for s in steps if s.get("id") == "versions")
    assert code["shell"] == "python"
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.chdir(tmp_path)
    exec(code["run"], {})
    got = dict(line.split("=", 1) for line in (tmp_path / "out").read_text().splitlines())
    for image in ("release", "dev"):
        text = (REPO / "docker" / image / "Dockerfile").read_text()
        declared = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.MULTILINE))
        for name in ("NUMPYRO_VERSION", "JAX_VERSION", "JAXLIB_VERSION"):
            assert got[f"{image}_{name}"] == declared[name], (image, name)


@pytest.mark.skipif(os.environ.get("RELEASE_HOOK_ONLINE") != "1", reason="set RELEASE_HOOK_ONLINE=1")
@pytest.mark.online
def test_online_the_search_finds_the_shipped_tables_break_for_numpyro_0_18_0() -> None:
    """Issue 18: numpyro 0.18.0 on Python 3.11 with the real jax releases; the newest that
    imports is the table's, found in a bounded number of installs."""
    import importlib.util

    from release_hook.resolve.index import Index
    from release_hook.resolve.pipconf import index_urls

    if isinstance(pythons.find((3, 11)), str):
        pytest.skip("no Python 3.11 here")
    spec = importlib.util.spec_from_file_location("build_import_table", REPO / "scripts" / "build_import_table.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    jax = script.candidates(Index(index_urls()), "numpyro", "0.18.0", (3, 11))
    found = newest_that_imports(jax, script.install_of("numpyro", "0.18.0"), str, Release("numpyro", "0.18.0"),
                                Target((3, 11)))
    shipped = import_table.rows("numpyro", "0.18.0", import_table.PATH)  # not the tests' empty table
    row = next(r for r in shipped if r.python.startswith("3.11."))
    assert (found.how, found.chosen) == (import_search.IMPORT, row.last_imports)
    assert found.failed is not None and found.failed[0] == row.first_fails
    assert len(found.tried) <= 2 * math.ceil(math.log2(len(jax))) + 1


# -- the import in sync's search ---------------------------------------------------------------

@needs_this_machine
def test_latest_with_smoke_writes_the_newest_jax_the_release_imports_with(
        cli, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: every jax installs beside numpyro 0.13.0 (it declares no upper bound), but from
    0.5.0 `import numpyro` fails. The search asks the import too, and bisects on a failure."""
    here()
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    root = tmp_path / "project"
    root.mkdir()
    (root / "setup.cfg").write_text("[release_hook]\nrequirements = index\n")
    (root / "Dockerfile").write_text(f"FROM python:{HERE[0]}.{HERE[1]}-slim\n"
                                     "RUN pip install numpyro==0.12.0 jax==0.1.0 jaxlib==0.1.0\n")
    r = cli("sync", "Dockerfile", "--no-commit", "--version", "0.13.0", "--policy", "latest", "--smoke",
            "--explain", cwd=root)
    assert r.code == 0, r.err
    assert "jax==0.4.1 jaxlib==0.4.1" in (root / "Dockerfile").read_text()
    assert "cannot import name 'pjit_p'" in r.out  # why the newer ones were skipped
    assert f"import: imports on Python {HERE[0]}.{HERE[1]}" in r.out, r.out
    check = ("sync", "Dockerfile", "--check", "--version", "0.13.0", "--policy", "latest", "--explain")
    # a later run without --smoke keeps the decision proved by import
    assert cli(*check, cwd=root).code == 0
    # one that never had it (another cache) expects the newest that installs, and says that no
    # import proved it (the shipped table has no row for these made-up releases)
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "another-cache"))
    without = cli(*check, cwd=root)
    assert without.code == 1 and "jax ==0.4.1, expected 0.8.1" in without.out, without.out
    assert "import: not proved by import: the shipped table has no row for numpyro 0.13.0" in without.out
