from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from release_hook.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
MEMORY = Path("/dev/shm")  # a tmpfs on Linux
MEMORY_NEEDED = 4 << 30  # what one run of the suite writes, with room to spare


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """The tests' temporary folders in memory when the machine has room there: the suite
    writes repositories, virtualenvs and caches by the thousand files, and on this project's
    machine waiting for the disk cost a third of its time (85 s against 128 s). A folder of
    this run's own (a second run beside it keeps its own), removed when it ends; --basetemp
    given on the command line wins."""
    # The processes the suite starts (its workers, the hooks, the CLI, pip and virtualenvs)
    # cache bytecode as Python does by default: with PYTHONDONTWRITEBYTECODE set, as on this
    # project's machine, each of them compiled the tool again and every worker rewrote every
    # test module (the Quick start's test command on a fresh clone: 61.3 and 66.2 s against
    # 48.6 and 50.1 s, alternating).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if config.option.basetemp or hasattr(config, "workerinput") or not MEMORY.is_dir():
        return
    try:
        free = shutil.disk_usage(MEMORY).free
    except OSError:
        return
    if free >= MEMORY_NEEDED and os.access(MEMORY, os.W_OK):
        prefix = f"release-hook-tests-{os.getuid()}-"
        for old in MEMORY.glob(prefix + "*"):  # left by a run that was killed: memory until reboot
            pid = old.name[len(prefix):]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(old, ignore_errors=True)
        config.option.basetemp = str(MEMORY / f"{prefix}{os.getpid()}")
        config.add_cleanup(lambda: _remove_unless_failed(config))


LONG_FIRST = ("test_tools.py",)  # tens of seconds each: started first, they end with the rest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first, so that the workers finish together instead of one running a
    long test alone at the end (the order is the same in every worker, as pytest-xdist needs)."""
    items.sort(key=lambda item: item.path.name not in LONG_FIRST)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_FAILED] = exitstatus != 0


_FAILED = pytest.StashKey[bool]()


def _remove_unless_failed(config: pytest.Config) -> None:
    """A failed run keeps its folders to look into (pytest names them in its report); the next
    run's sweep removes them once this process is gone."""
    if not config.stash.get(_FAILED, False):
        shutil.rmtree(config.option.basetemp, ignore_errors=True)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run the command line in-process, in tmp_path unless told otherwise."""
    monkeypatch.delenv("BUMPVERSION_NEW_VERSION", raising=False)
    monkeypatch.delenv("BUMPVERSION_CURRENT_VERSION", raising=False)

    def run(*args: str, cwd: Path | None = None) -> Result:
        monkeypatch.chdir(cwd or tmp_path)
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def git(cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=check, text=True,
                          capture_output=True, input=input)


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read the developer's git config; each repo sets its own identity."""
    # One uv cache for the session, as a user has one (each test's index has its own port, so
    # no answer crosses tests): uv then starts warm, and nothing is written outside the tmp folders.
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "uv-cache"))
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(home / ".cache" / "release-hook"))
    # No test asks a real resolver unless it serves the index (tests/test_proof.py turns it on).
    monkeypatch.setenv("RELEASE_HOOK_VERIFY", "0")
    # Nor meets the shipped table of import breaks with its made-up releases (test_search.py does).
    monkeypatch.setenv("RELEASE_HOOK_IMPORT_TABLE", "")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    # git's housekeeping after each commit and push (`maintenance run --auto`, `gc --auto`) is a
    # process that never has work in a test's few commits: about 220 of them per run.
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n[user]\n\tname = Release Manager\n"
                                     "\temail = rm@example.invalid\n[maintenance]\n\tauto = false\n"
                                     "[receive]\n\tautogc = false\n")
    os.environ.setdefault("GIT_TERMINAL_PROMPT", "0")
