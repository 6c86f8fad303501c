"""Independent checkers: BuildKit's own parser, hadolint and actionlint, on what the tool reads
and writes, and on the repository's own images and workflow."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dockerfile as buildkit
import pytest
import yaml

from release_hook.dockerfile import assignments, parse
from release_hook.pins import find_pins
from release_hook.plan import plan_file
from release_hook.resolve.targets import Targets

from conftest import FIXTURES

REPO = Path(__file__).resolve().parent.parent
FIXTURE_FILES = sorted(FIXTURES.glob("*.Dockerfile"))
OWN_DOCKERFILES = [REPO / "docker" / "release" / "Dockerfile", REPO / "docker" / "dev" / "Dockerfile"]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def buildkit_shape(text: str) -> list[tuple[str, int, int, tuple[str, ...]]]:
    return [(c.cmd.upper(), c.start_line, c.end_line, tuple(c.flags))
            for c in buildkit.parse_string(text.lstrip("\ufeff"))]


def our_shape(text: str) -> list[tuple[str, int, int]]:
    return [(i.keyword, i.line, i.end_line) for i in parse(text, "Dockerfile").instructions]


@pytest.mark.parametrize("path", FIXTURE_FILES + OWN_DOCKERFILES, ids=lambda p: p.name)
def test_our_instruction_boundaries_match_buildkit(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert our_shape(text) == [s[:3] for s in buildkit_shape(text)]


def rewritten(path: Path) -> tuple[str, str]:
    text = path.read_text(encoding="utf-8")
    scan = find_pins(parse(text, str(path)), "numpyro")
    versions = {p.package: "9.8.7" for p in scan.pins}
    targets = Targets("numpyro", "9.8.7", versions)  # jaxlib keeps the file's own tag
    return text, plan_file(scan, targets.for_pin).new_text


def dockerfile_parse_shape(text: str) -> list[tuple[str, int, int]]:
    import io

    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(text.lstrip("\ufeff").encode()))
    return [(s["instruction"], s["startline"], s["endline"]) for s in parser.structure]


@pytest.mark.parametrize("path", FIXTURE_FILES + OWN_DOCKERFILES, ids=lambda p: p.name)
def test_rewrites_parse_into_the_same_instructions_by_buildkit_and_dockerfile_parse(path: Path) -> None:
    before, after = rewritten(path)
    assert after != before or not find_pins(parse(before, "x"), "numpyro").pins
    assert buildkit_shape(after) == buildkit_shape(before)
    assert dockerfile_parse_shape(after) == dockerfile_parse_shape(before)


def hadolint(*paths: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    args = [tool("hadolint"), "--no-color"]
    if config is not None:
        args += ["--config", str(config)]
    return subprocess.run([*args, *map(str, paths)], capture_output=True, text=True, cwd=REPO)


def test_own_images_lint_clean_with_hadolint() -> None:
    r = hadolint(*OWN_DOCKERFILES, config=REPO / ".hadolint.yaml")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path", OWN_DOCKERFILES, ids=lambda p: p.parent.name)
def test_own_images_still_lint_clean_after_a_rewrite(path: Path, tmp_path: Path) -> None:
    _, after = rewritten(path)
    out = tmp_path / "Dockerfile"
    out.write_text(after)
    r = hadolint(out, config=REPO / ".hadolint.yaml")
    assert r.returncode == 0, r.stdout + r.stderr


def test_hadolint_is_a_real_check(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu\nRUN pip install numpyro\n")  # untagged base, unpinned pip
    assert hadolint(bad, config=REPO / ".hadolint.yaml").returncode != 0


WORKFLOW = REPO / ".github" / "workflows" / "images.yml"


def test_workflow_passes_actionlint() -> None:
    r = subprocess.run([tool("actionlint"), "-no-color", str(WORKFLOW)], capture_output=True,
                       text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


def test_workflow_build_args_are_the_args_the_dockerfiles_declare() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    builds = [s["with"] for s in workflow["jobs"]["images"]["steps"]
              if str(s.get("uses", "")).startswith("docker/build-push-action")]
    assert {b["context"] for b in builds} == {"docker/release", "docker/dev"}
    for b in builds:
        passed = {line.split("=", 1)[0] for line in b["build-args"].split("\n") if line.strip()}
        df = parse((REPO / b["context"] / "Dockerfile").read_text(), b["context"])
        declared = {a.name for ins in df.instructions if ins.keyword == "ARG"
                    for a in assignments(ins, df.escape)}
        assert passed <= declared, passed - declared
        assert {"NUMPYRO_VERSION", "JAX_VERSION", "JAXLIB_VERSION"} <= passed
    step = next(s for s in workflow["jobs"]["images"]["steps"] if "release_hook" in str(s.get("run")))
    assert "sync --check" in step["run"]


def test_runtime_guard_reparses_an_edit_that_is_not_a_plain_token() -> None:
    from release_hook.apply import check_instructions
    from release_hook.errors import UserError
    from release_hook.plan import Edit, FilePlan, splice

    text = "FROM a\nRUN pip install jax==0.4.1\n"
    scan = find_pins(parse(text, "Dockerfile"), "numpyro")
    start = text.index("0.4.1")
    fine = [Edit(start, start + 5, "0.4.2")]
    check_instructions(FilePlan(scan, (), tuple(fine), splice(text, fine)))
    broken = [Edit(start, start + 5, "0.4.2\nCMD x")]
    with pytest.raises(UserError, match="changed the instruction sequence"):
        check_instructions(FilePlan(scan, (), tuple(broken), splice(text, broken)))
