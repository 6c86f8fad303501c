"""Property tests of the core invariant: rewriting touches version characters and nothing else.

- rewriting to the versions already present changes no byte;
- any rewrite changes only characters inside version spans;
- rewriting back restores the original exactly;
- the scan cache's entry of a rewritten file, moved by the edits, is the entry of parsing it;
- random Dockerfile-like text never crashes the reader (a UserError is a clean refusal).
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from release_hook import scancache
from release_hook.dockerfile import parse
from release_hook.errors import UserError
from release_hook.pins import Scan, find_pins
from release_hook.plan import plan_file
from release_hook.resolve.targets import Targets

PACKAGES = ("numpyro", "jax", "jaxlib", "jax-cuda12-plugin")
versions = st.builds(lambda a, b, c: f"{a}.{b}.{c}", st.integers(0, 12), st.integers(0, 40),
                     st.integers(0, 99))
targets_st = st.fixed_dictionaries({p: versions for p in PACKAGES})


@st.composite
def dockerfiles(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    current = draw(targets_st)
    bom = draw(st.sampled_from(["", "\ufeff"]))
    lines = [draw(st.sampled_from(["", "# syntax=docker/dockerfile:1" + nl]))]
    lines.append("FROM nvidia/cuda:12.2.0-base-ubuntu22.04 AS base" + nl)
    var = {p: f"{p.upper().replace('-', '_')}_VERSION" for p in PACKAGES}
    defined: set[str] = set()
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["comment", "arg", "env", "legacy", "run", "heredoc", "other"]))
        pkg = draw(st.sampled_from(PACKAGES))
        if kind == "comment":
            lines.append("# " + draw(st.sampled_from(["café ☕", "pip install jax==1.0", "x"])) + nl)
        elif kind == "other":
            lines.append(draw(st.sampled_from(["WORKDIR /w", "COPY . /w", "CMD [\"python\"]"])) + nl)
        elif kind in ("arg", "env", "legacy") and var[pkg] not in defined:
            quote = draw(st.sampled_from(["", '"']))
            if kind == "legacy":
                lines.append(f"ENV {var[pkg]} {current[pkg]}{nl}")
            else:
                lines.append(f"{kind.upper()} {var[pkg]}={quote}{current[pkg]}{quote}{nl}")
            defined.add(var[pkg])
        elif kind == "heredoc":
            lines.append(f"RUN <<EOT{nl}pip install {pkg}=={current[pkg]}{nl}EOT{nl}")
        else:
            words = []
            for p in draw(st.lists(st.sampled_from(PACKAGES), min_size=1, max_size=4)):
                form = draw(st.sampled_from(["plain", "double", "single", "var"]))
                if form == "var" and var[p] in defined:
                    words.append(f'"{p}==${{{var[p]}}}"' if draw(st.booleans()) else f"{p}==${var[p]}")
                elif form == "double":
                    words.append(f'"{p}=={current[p]}"')
                elif form == "single":
                    words.append(f"'{p}=={current[p]}'")
                else:
                    words.append(f"{p}=={current[p]}")
            seps = []
            for _ in words:
                sep = draw(st.sampled_from([" ", " \\" + nl + "    ", " \\" + nl + "# c" + nl + "\t",
                                            " \\" + nl + nl + "  ", " && pip install "]))
                seps.append(sep)
            cmd = draw(st.sampled_from(["pip install", "pip3 install --no-cache-dir",
                                        "python3 -m pip install -U", "uv pip install --system"]))
            body = "".join(s + w for s, w in zip(seps, words))
            lines.append(f"RUN {cmd}{body}{nl}")
    end = draw(st.sampled_from(["", nl]))
    text = bom + "".join(lines)
    return (text.rstrip("\r\n") + end) if end == "" else text, current


def scan(text: str) -> Scan:
    return find_pins(parse(text, "Dockerfile"), "numpyro")


def rewrite(text: str, wanted: dict[str, str]) -> str:
    targets = Targets("numpyro", wanted["numpyro"], {k: v for k, v in wanted.items() if k != "numpyro"})
    return plan_file(scan(text), targets.for_pin).new_text


def moved_entry(text: str, new: dict[str, str]) -> tuple[dict[str, object] | None, str]:
    """The scan cache's entry of `text` moved by a sync's edits (None where it declines), and
    the text the sync writes."""
    targets = Targets("numpyro", new["numpyro"], {k: v for k, v in new.items() if k != "numpyro"})
    found = scan(text)
    plan = plan_file(found, targets.for_pin)
    try:
        return scancache._moved(scancache._encode(found), text, plan.edits), plan.new_text
    except scancache._Unmoved:
        return None, plan.new_text


def skeleton(text: str) -> str:
    """The text without the characters of any pin's version."""
    drop = {o for pin in scan(text).pins for o in pin.chars.origin}
    return "".join(c for i, c in enumerate(text) if i not in drop)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles(), targets_st)
def test_rewrite_touches_only_versions_and_round_trips(case: tuple[str, dict[str, str]],
                                                        new: dict[str, str]) -> None:
    text, current = case
    assert rewrite(text, current) == text  # already in step: not one byte changes
    changed = rewrite(text, new)
    assert skeleton(changed) == skeleton(text)
    assert rewrite(changed, current) == text
    for pin in scan(changed).pins:
        assert pin.version == new[pin.package]
    # the scan cache keeps the written file's entry without parsing it (the next run reads
    # what the sync wrote): it must be exactly what parsing the written text gives
    moved, written = moved_entry(text, new)
    assert written == changed
    if moved is not None:
        assert moved == scancache._encode(scan(changed))


fragments = st.sampled_from([
    "FROM a", "RUN ", "pip install ", "jax==0.4.1", "${JAX}", "$(x)", "`y`", "'", '"', "\\", "\n",
    "\r\n", "# c", "<<EOF", "EOF", "\t", " && ", " || ", ";", "ARG JAX=1", "ENV JAX 2",
    "numpyro==0.6.0", "é", "[", "]", '["pip","install","jax==1"]', "--mount=type=cache ", "{}",
    "xargs ", "-f ", "git clone -b 1.0 numpyro.git", "\ufeff", "# escape=`", "`\n",
    # what the walk reads beside the pins: files, placements, wrappers, the Python
    "COPY a.txt /b/", "ADD x.tar.gz .", "COPY --from=s / /", "WORKDIR w", "--mount=type=bind,target=/m ",
    "-r r.txt ", "-c", "PIP_CONSTRAINT=/c ", "ENV PIP_CONSTRAINT=a b", "cd .. && ", "conda run -n e ",
    "stdbuf -o L ", "xargs -a f ", "python3.11 -m venv /v", ". /v/bin/activate", "SHELL [\"conda\",\"run\"]",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(fragments, max_size=40))
def test_reader_never_crashes(parts: list[str]) -> None:
    text = "".join(parts)
    try:
        s = scan(text)
    except UserError as e:
        assert "\n" not in str(e)
        return
    new = {p: "9.9.9" for p in PACKAGES}
    try:
        out = rewrite(text, new)
    except UserError as e:
        assert "\n" not in str(e)
        return
    assert skeleton(out) == skeleton(text)
    assert len(s.pins) == len(scan(out).pins)


def test_the_entries_of_real_images_move_with_a_release() -> None:
    """The repository's own images and the benchmark's generated ones: each entry moves (none
    declined) and is what parsing the written file gives. The test fixtures, whose messages quote
    versions (`pip wheel jax==0.4.1`), may be declined, never wrong."""
    import random
    import sys
    from pathlib import Path

    root = Path(__file__).parent.parent
    sys.path.insert(0, str(root / "benchmarks"))
    import corpus

    rng = random.Random(0)
    images = [p.read_text() for p in root.glob("docker/*/Dockerfile")]
    images += [corpus.dockerfile(i, rng, numpyro="0.13.0", jax="0.4.14", jaxlib="0.4.14") for i in range(12)]
    fixtures = [p.read_text() for p in root.glob("tests/fixtures/*.Dockerfile")]
    moves = 0
    for text in images + fixtures:
        for version in ("0.4.13", "0.4.140", "1.0.0"):
            moved, written = moved_entry(text, {"numpyro": "0.99.0", **{p: version for p in PACKAGES[1:]}})
            if written != text and (moved is not None or text not in fixtures):
                assert moved == scancache._encode(scan(written)), text
                moves += 1
    assert moves >= 3 * 14
