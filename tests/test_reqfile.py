"""Requirements files read as pip reads them, with exact spans (release_hook.reqfile).

Examples of every construct of pip's documented format; the round-trip law as properties
(unchanged input round-trips byte for byte, a rewrite changes only version characters, and
rewriting back gives the original); and pip's own parser as the referee on random files.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from release_hook.errors import UserError
from release_hook.plan import plan_file, splice
from release_hook.reqfile import Include, ReqFile, parse

KEPT = ("jax", "jaxlib", "jax-cuda12-plugin")
H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64


def read(text: str, env: dict[str, str] | None = None, path: str = "requirements.txt") -> ReqFile:
    return parse(path, text, "numpyro", KEPT, env)


def written(r: ReqFile, i: int) -> str:
    """The file characters that a pin's version occupies."""
    origin = r.pins[i].chars.origin
    return r.text[origin[0]:origin[-1] + 1]


def rewrite(r: ReqFile, new: dict[str, str]) -> str:
    return plan_file(r.scan(), lambda p: new.get(p.package)).new_text


# -- the documented constructs ------------------------------------------------------------------

def test_plain_pins_ranges_and_neighbours() -> None:
    r = read("numpyro==0.15.0\njax==0.4.25\njaxlib==0.4.25\nscipy==1.11.4\njax-cuda12-plugin>=0.4\n")
    assert [(p.package, p.version, p.line, p.stage, p.image) for p in r.pins] == [
        ("numpyro", "0.15.0", 1, -1, ""), ("jax", "0.4.25", 2, -1, ""), ("jaxlib", "0.4.25", 3, -1, "")]
    assert [(q.text, q.line) for q in r.requirements] == [("scipy==1.11.4", 4), ("jax-cuda12-plugin>=0.4", 5)]
    assert [str(m) for m in r.mentions] == [
        "requirements.txt:5: 'jax-cuda12-plugin>=0.4' is a range: listed, not changed"]
    assert rewrite(r, {"jax": "0.6.1", "numpyro": "0.19.0"}) == (
        "numpyro==0.19.0\njax==0.6.1\njaxlib==0.4.25\nscipy==1.11.4\njax-cuda12-plugin>=0.4\n")


def test_comments_start_a_line_or_follow_whitespace_only() -> None:
    text = ("# jax==0.1.0\n"
            "   # jaxlib==0.1.0\n"
            "jax==0.4.25 # pinned for numpyro\n"
            "jaxlib==0.4.25\t# a tab before it\n"
            "numpyro @ https://example.invalid/numpyro-0.15.0.tar.gz#sha256=" + H1 + "\n")
    r = read(text)
    assert [(p.package, p.version, p.line) for p in r.pins] == [("jax", "0.4.25", 3), ("jaxlib", "0.4.25", 4)]
    assert r.entries[2].text.endswith("#sha256=" + H1)  # a `#` inside a word is no comment
    assert [str(m) for m in r.mentions][0].startswith("requirements.txt:5: 'numpyro @ https://")


def test_extras_markers_spaces_and_the_other_pin_operators() -> None:
    text = ('jax[cuda12] == 0.4.25 ; python_version >= "3.10"\n'
            "jaxlib===0.4.25+cuda12.cudnn89\n"
            "numpyro ~= 0.15.0\n"
            "jax==0.4.*\n")
    r = read(text)
    assert [(p.package, p.operator, p.version, p.extras) for p in r.pins] == [
        ("jax", "==", "0.4.25", frozenset({"cuda12"})), ("jaxlib", "===", "0.4.25+cuda12.cudnn89", frozenset()),
        ("numpyro", "~=", "0.15.0", frozenset())]
    assert [written(r, i) for i in range(3)] == ["0.4.25", "0.4.25+cuda12.cudnn89", "0.15.0"]
    assert [str(m) for m in r.mentions] == ["requirements.txt:4: 'jax==0.4.*' is a range: listed, not changed"]
    assert rewrite(r, {"jax": "0.6.1"}).splitlines()[0] == 'jax[cuda12] == 0.6.1 ; python_version >= "3.10"'


def test_urls_paths_and_wheels_are_listed_not_changed() -> None:
    text = ("jax @ git+https://github.com/google/jax@jax-v0.4.25\n"
            "./wheels/jaxlib-0.4.25-cp311-cp311-manylinux2014_x86_64.whl\n"
            "https://example.invalid/jaxlib-0.4.25-cp311-cp311-manylinux2014_x86_64.whl\n"
            "-e git+https://github.com/pyro-ppl/numpyro@0.15.0#egg=numpyro\n"
            "-e ./local-project\n"
            "scipy @ https://example.invalid/scipy-1.11.4.tar.gz\n")
    r = read(text)
    assert r.pins == ()
    assert [m.line for m in r.mentions] == [1, 2, 3, 4]
    assert "jaxlib 0.4.25 from a wheel file" in r.mentions[1].message
    assert [(e.name, e.editable) for e in r.entries] == [
        ("jax", False), ("jaxlib", False), ("jaxlib", False), ("numpyro", True), ("", True), ("scipy", False)]
    assert len(r.requirements) == 6  # every one is part of the install


def test_option_lines_every_option_pip_takes_and_abbreviations() -> None:
    text = ("-i https://example.invalid/simple\n"
            "--extra-index-url https://extra.invalid/simple\n"
            "-f https://storage.googleapis.com/jax-releases/jax_cuda_releases.html\n"
            "--find-links=./wheels\n"
            "--pre\n--prefer-binary\n--require-hashes\n--no-index\n"
            "--no-binary :all:\n--only-binary=jaxlib\n"
            "--trusted-host example.invalid\n--use-feature=truststore\n"
            "--extra-index https://abbreviated.invalid/simple\n"
            "jax==0.4.25\n")
    r = read(text)
    assert [(o.name, o.value.text if o.value else None, o.line) for o in r.options] == [
        ("--index-url", "https://example.invalid/simple", 1),
        ("--extra-index-url", "https://extra.invalid/simple", 2),
        ("--find-links", "https://storage.googleapis.com/jax-releases/jax_cuda_releases.html", 3),
        ("--find-links", "./wheels", 4), ("--pre", None, 5), ("--prefer-binary", None, 6),
        ("--require-hashes", None, 7), ("--no-index", None, 8), ("--no-binary", ":all:", 9),
        ("--only-binary", "jaxlib", 10), ("--trusted-host", "example.invalid", 11),
        ("--use-feature", "truststore", 12), ("--extra-index-url", "https://abbreviated.invalid/simple", 13)]
    assert r.require_hashes and r.hash_checking
    # the pins carry the file's index and find-links addresses, with their characters
    addresses = dict(r.pins[0].addresses)
    page = addresses["--find-links"]
    assert r.text[page.origin[0]:page.origin[-1] + 1] == page.text


def test_the_find_links_page_moves_with_a_cuda_jaxlib() -> None:
    text = ("-f https://storage.googleapis.com/jax-releases/jax_releases.html\n"
            "jaxlib==0.4.25+cuda12.cudnn89\n")
    r = read(text)
    plan = plan_file(r.scan(), lambda p: None, lambda p: "jax_cuda_releases.html")
    assert plan.new_text == text.replace("jax_releases.html", "jax_cuda_releases.html")


def test_nested_requirements_and_constraints_files() -> None:
    text = ("-r base.txt\n--requirement=../common/requirements.txt\n-rglued.txt\n"
            "-c constraints.txt\n--constraint /abs/c.txt\n-r https://example.invalid/r.txt\n"
            "-r first.txt -c ignored.txt\n")
    r = read(text, path="docker/requirements.txt")
    assert [(i.option, i.path, i.line) for i in r.includes] == [
        ("-r", "base.txt", 1), ("-r", "../common/requirements.txt", 2), ("-r", "glued.txt", 3),
        ("-c", "constraints.txt", 4), ("-c", "/abs/c.txt", 5), ("-r", "https://example.invalid/r.txt", 6),
        ("-r", "first.txt", 7)]
    assert [i.beside("docker/requirements.txt") for i in r.includes[:5]] == [
        "docker/base.txt", "docker/../common/requirements.txt", "docker/glued.txt",
        "docker/constraints.txt", "/abs/c.txt"]
    assert Include("-r", "https://x.invalid/r.txt", 1).beside("a/b.txt") == "https://x.invalid/r.txt"
    assert [str(w) for w in r.warnings] == [
        "docker/requirements.txt:7: a second -r / -c on one line: pip ignores ignored.txt"]


@pytest.mark.parametrize("line, problem", [
    ("./local-project", "Unnamed requirements are not allowed as constraints"),
    ("-e git+https://example.invalid/jax.git#egg=jax", "Editable requirements are not allowed as constraints"),
    ("jax[cuda12]==0.4.25", "Constraints cannot have extras"),
])
def test_a_constraints_file_takes_named_requirements_only(line: str, problem: str) -> None:
    assert read(f"{line}\n").entries  # a requirements file takes it
    with pytest.raises(UserError, match=f"constraints.txt:2: {problem}"):
        parse("constraints.txt", f"scipy<1.12\n{line}\n", "numpyro", KEPT, constraints=True)
    c = parse("constraints.txt", "scipy<1.12\njax==0.4.25\n", "numpyro", KEPT, constraints=True)
    assert [p.package for p in c.pins] == ["jax"] and [q.text for q in c.requirements] == ["scipy<1.12"]


def test_hashes_on_continuation_lines_as_pip_compile_writes_them() -> None:
    text = ("jax==0.4.25 \\\n"
            f"    --hash=sha256:{H1} \\\n"
            f"    --hash=sha256:{H2}\n"
            "    # via -r requirements.in\n"
            f"jaxlib==0.4.25 --hash sha256:{H3} --config-settings=editable_mode=compat -C k=v\n"
            "scipy==1.11.4\n")
    r = read(text)
    jax, jaxlib, scipy = r.entries
    assert [(h.algorithm, h.digest) for h in jax.hashes] == [("sha256", H1), ("sha256", H2)]
    assert [text[h.start:h.end] for h in jax.hashes] == [f"--hash=sha256:{H1}", f"--hash=sha256:{H2}"]
    assert [text[h.lead:h.start] for h in jax.hashes] == [" \\\n    ", " \\\n    "]
    assert [text[h.start:h.end] for h in jaxlib.hashes] == [f"--hash sha256:{H3}"]
    assert [(o.name, o.value.text) for o in jaxlib.options] == [
        ("--config-settings", "editable_mode=compat"), ("--config-settings", "k=v")]
    assert scipy.hashes == () and r.hash_checking and not r.require_hashes
    assert (jax.pin, jaxlib.pin, scipy.pin) == (0, 1, -1)
    assert r.entry(r.pins[1]) is jaxlib


def test_a_continuation_inside_a_requirement_keeps_its_characters() -> None:
    text = "ja\\\nx \\\n  ==0.4.25 \\\n  ; python_version >= '3.9'\nnumpyro==\\\n0.15.0\n"
    r = read(text)
    assert [(p.package, p.version, p.line) for p in r.pins] == [("jax", "0.4.25", 1), ("numpyro", "0.15.0", 5)]
    assert rewrite(r, {"jax": "0.6.1", "numpyro": "0.19.0"}) == (
        "ja\\\nx \\\n  ==0.6.1 \\\n  ; python_version >= '3.9'\nnumpyro==\\\n0.19.0\n")


def test_a_version_cut_in_two_by_a_continuation_is_refused_not_guessed() -> None:
    r = read("jax==0.4.\\\n25\n")
    assert r.pins[0].version == "0.4.25" and written(r, 0) == "0.4.\\\n25"
    with pytest.raises(UserError, match="requirements.txt:1: cannot write jax 0.6.1 in this file's form"):
        rewrite(r, {"jax": "0.6.1"})


def test_a_comment_line_ends_a_continuation_and_a_comment_swallows_what_it_continues() -> None:
    # pip joins the line after `# note \` to the comment: the --hash is commented out
    text = f"jax==0.4.25 # note \\\n    --hash=sha256:{H1}\n# a comment \\\njaxlib==0.4.25\n"
    r = read(text)
    assert r.entries[0].hashes == ()
    assert [(p.package, p.line) for p in r.pins] == [("jax", 1), ("jaxlib", 4)]


def test_crlf_and_a_byte_order_mark_round_trip() -> None:
    text = "\ufeff# lock\r\njax==0.4.25 \\\r\n    --hash=sha256:" + H1 + "\r\njaxlib==0.4.25\r\n"
    r = read(text)
    assert [(p.package, p.line) for p in r.pins] == [("jax", 2), ("jaxlib", 4)]
    new = rewrite(r, {"jax": "0.6.1", "jaxlib": "0.6.1"})
    assert new == text.replace("0.4.25", "0.6.1")
    assert new.startswith("\ufeff") and new.count("\r\n") == text.count("\r\n")


def test_environment_variables_only_in_the_braced_upper_case_form() -> None:
    text = "jax==${JAX_VERSION}\njaxlib==${JAXLIB}\nnumpyro==0.15.0 ; python_version > '${py}'\n"
    r = read(text, {"JAX_VERSION": "0.4.25", "py": "3"})
    jax = r.pins[0]
    assert (jax.package, jax.version, jax.chars.via_var) == ("jax", "0.4.25", (True,) * 6)
    assert [str(w) for w in r.warnings] == [
        "requirements.txt:2: jaxlib version uses ${JAXLIB}, which the tool cannot see: left alone"]
    assert r.requirements[0].computed == "${JAXLIB}"
    assert r.entries[2].text == "numpyro==0.15.0 ; python_version > '${py}'"  # lower case: not expanded
    with pytest.raises(UserError, match="not written in this file"):
        rewrite(r, {"jax": "0.6.1"})
    # a variable the tool cannot see may hold a version, but no value mends two requirements on one line
    with pytest.raises(UserError, match="requirements.txt:1: invalid requirement 'jax==0.4.25 jaxlib==.{JAXLIB}'"):
        read("jax==0.4.25 jaxlib==${JAXLIB}\n")


def test_a_variable_that_expands_to_an_option_is_read_as_pip_reads_it() -> None:
    r = read("${INDEX}\njax==0.4.25\n", {"INDEX": "--index-url https://example.invalid/simple"})
    assert [(o.name, o.value.text) for o in r.options] == [("--index-url", "https://example.invalid/simple")]


@pytest.mark.parametrize("line, message", [
    ("--foo", "no such option: --foo"),
    ("-x foo", "no such option: -x"),
    ("--no", "ambiguous option: --no (--no-binary, --no-index?)"),
    ("-r", "-r option requires 1 argument"),
    ("--index-url", "--index-url option requires 1 argument"),
    ("--pre=yes", "--pre option does not take a value"),
    ("jax==0.4.25 --hash=md5:abc", "Allowed hash algorithms for --hash are sha256, sha384, sha512."),
    ("jax==0.4.25 --hash=abc", "Arguments to --hash must be a hash name followed by a value"),
    ("jax==0.4.25 -C novalue", "Arguments to --config-settings must be of the form KEY=VAL"),
    ('--index-url "https://unclosed', "No closing quotation"),
    ("jax=0.4.25", "invalid requirement 'jax=0.4.25': .*did you mean == ?"),
    ("jax==0.4.25 ; python_version >>> '3'", "invalid requirement"),
    ("./jaxlib-0.4.25-nope.whl", "invalid requirement"),
])
def test_a_line_pip_rejects_is_one_line_at_its_line(line: str, message: str) -> None:
    with pytest.raises(UserError) as e:
        read(f"# first\nscipy==1.11.4\n{line}\n")
    assert str(e.value).startswith("requirements.txt:3: ") and "\n" not in str(e.value)
    assert re.search(message, str(e.value)) or message in str(e.value)


def test_options_pip_ignores_on_a_requirement_line_are_said() -> None:
    r = read(f"jax==0.4.25 --pre --hash=sha256:{H1}\n--hash=sha256:{H2}\n")
    assert [str(w) for w in r.warnings] == [
        "requirements.txt:1: --pre on a requirement's line: pip ignores it there",
        "requirements.txt:2: --hash without a requirement on its line: pip ignores it"]


# -- the header of a compiled lock --------------------------------------------------------------

PIP_COMPILE_HEADER = ("#\n# This file is autogenerated by pip-compile with Python 3.11\n"
                      "# by the following command:\n#\n"
                      "#    pip-compile --generate-hashes --output-file=docker/requirements.txt "
                      "docker/requirements.in\n#\n")
UV_HEADER = ("# This file was autogenerated by uv via the following command:\n"
             "#    uv pip compile requirements.in -o requirements.txt --generate-hashes "
             "--python-version 3.12\n")


def test_the_header_of_pip_compile() -> None:
    h = read(PIP_COMPILE_HEADER + "jax==0.4.25\n").header
    assert h is not None
    assert (h.tool, h.inputs, h.output, h.python, h.line) == (
        "pip-compile", ("docker/requirements.in",), "docker/requirements.txt", "3.11", 5)
    assert h.end == len(PIP_COMPILE_HEADER)
    old = "#\n# This file is autogenerated by pip-compile\n# To update, run:\n#\n#    pip-compile\n#\n"
    h = read(old + "jax==0.4.25\n").header
    assert h is not None and (h.command, h.inputs, h.python) == ("pip-compile", (), None)


def test_the_header_of_uv_and_a_custom_command() -> None:
    h = read("\ufeff" + UV_HEADER + "jax==0.4.25\n").header
    assert h is not None
    assert (h.tool, h.inputs, h.output, h.python, h.line) == (
        "uv pip compile", ("requirements.in",), "requirements.txt", "3.12", 2)
    custom = read("# This file was autogenerated by uv via the following command:\n#    make lock\n").header
    assert custom is not None and (custom.command, custom.words, custom.inputs) == ("make lock", (), ())
    assert read("# my pins\njax==0.4.25\n").header is None


# -- speed: linear, whatever the line ----------------------------------------------------------

def test_lines_built_to_make_a_backtracking_parser_crawl_are_read_at_once() -> None:
    n = 200_000
    valid = ["jax==0.4.25 " + " " * n + "\n",  # a long run of blanks with no `#` after it
             "jax==0.4.25 " + " " * n + "# c\n",
             "scipy==1.0" + " \\\n" * n,
             "-r " + "${X" * n + "\n",
             "jax==0.4.25 --hash=sha256:" + "a" * 64 + (" --hash=sha256:" + "b" * 64) * 5000 + "\n"]
    invalid = ["jax==0.4.25 " + " " * n + "x\n", "scipy" + "-" * n + "\n", "a" * n + "=1\n", "${X" * n + "\n", "--" + "-" * n + "\n"]
    started = time.perf_counter()
    for text in valid:
        read(text)
    for text in invalid:
        with pytest.raises(UserError) as e:
            read(text)
        assert len(str(e.value)) < 300
    assert time.perf_counter() - started < 30  # a quadratic step would take hours


# -- the round-trip law -------------------------------------------------------------------------

versions = st.sampled_from(["0.4.25", "0.6.1", "0.4.25+cuda12.cudnn89", "1.0", "0.10.2rc1"])
blank = st.sampled_from([" ", "  ", "\t", " \\\n    ", " \\\r\n  "])


@st.composite
def requirement_lines(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(["jax", "jaxlib", "numpyro", "scipy", "Jax_CUDA12.Plugin"]))
    extras = draw(st.sampled_from(["", "[cuda12]", "[cpu, tpu]"]))
    op = draw(st.sampled_from(["==", "==", "===", "~=", ">=", ""]))
    version = draw(versions) if op else ""
    if op not in ("==", "==="):  # a local version only with ==: newer pips reject the rest
        version = version.split("+")[0]
    space = draw(st.sampled_from(["", " "]))
    marker = draw(st.sampled_from(["", ' ; python_version >= "3.10"', "; sys_platform == 'linux'"]))
    text = f"{name}{extras}{space}{op}{space}{version}{marker}"
    if draw(st.booleans()) and len(text) > 2:  # a continuation somewhere inside the requirement
        at = draw(st.integers(1, len(text) - 1))
        if text[at - 1] != " " and text[at] not in " ;":
            text = text[:at] + "\\\n" + text[at:]
    for _ in range(draw(st.integers(0, 3))):
        digest = draw(st.sampled_from([H1, H2, H3]))
        text += draw(blank) + draw(st.sampled_from([f"--hash=sha256:{digest}", f"--hash sha256:{digest}"]))
    text += draw(st.sampled_from(["", "  # a comment", " # café ☕ \\"]))
    return text


other_lines = st.sampled_from([
    "", "   ", "# jax==0.1.0", "  # indented comment", "--index-url https://example.invalid/simple",
    "-f https://storage.googleapis.com/jax-releases/jax_cuda_releases.html", "--pre",
    "--prefer-binary", "--only-binary :all:", "--trusted-host example.invalid", "-r nested.txt",
    "-c nested.txt", "--requirement=nested.txt", "# via -r requirements.in",
    "-e ./local-project", "jax @ https://example.invalid/jax-0.4.25.tar.gz",
    "--index-url 'https://quoted.invalid/simple'", "-i\thttps://tab.invalid/simple",
    f"jax==0.4.25\t--hash=sha256:{H1}", "# a form feed\x0cjaxlib==0.4.25 splits the line",
    "# a lone carriage return\rjaxlib==0.4.25", "jax==${JAX_VERSION}", "${PRE}", "jaxlib==${UNSET}",
    "numpyro==0.15.0 ; python_version > '${py}'", "--extra-index=https://abbreviated.invalid",
    f"jaxlib @ https://example.invalid/jaxlib-0.4.25.tar.gz#sha256={H2}", "\\jax==0.4.25 \\",
    "\\\\numpyro==0.15.0", "scipy==1.11.4#no comment", "--pre --pre# still options \\",
])
ENV = {"JAX_VERSION": "0.6.1", "PRE": "--pre", "py": "3"}


@st.composite
def requirement_files(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.one_of(requirement_lines(), other_lines), min_size=1, max_size=12))
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    text = nl.join(line.replace("\n", nl) if nl == "\r\n" and "\r" not in line else line for line in lines)
    return draw(st.sampled_from(["", "\ufeff"])) + text + draw(st.sampled_from(["", nl]))


def _readable(text: str) -> ReqFile | None:
    try:
        return read(text)
    except UserError:
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requirement_files(), st.data())
def test_the_round_trip_law(text: str, data: st.DataObject) -> None:
    r = _readable(text)
    if r is None:
        return
    # unchanged input: no byte moves
    assert plan_file(r.scan(), lambda p: p.version).new_text == text
    assert plan_file(r.scan(), lambda p: None).new_text == text
    # a rewrite of the kept versions changes only their characters
    def whole(i: int) -> bool:  # a version cut by a continuation is refused, not rewritten
        origin = r.pins[i].chars.origin
        return origin[-1] - origin[0] == len(origin) - 1

    def version_for(i: int) -> str:  # `~=` takes no local version (+cuda12...)
        if not whole(i):
            return r.pins[i].version
        drawn = data.draw(versions)
        return drawn.split("+")[0] if r.pins[i].operator == "~=" else drawn

    new = {i: version_for(i) for i in range(len(r.pins))}
    plan = plan_file(r.scan(), lambda p: new[r.pins.index(p)])
    for edit in plan.edits:
        assert any(p.chars.origin[0] <= edit.start and edit.end <= p.chars.origin[-1] + 1 for p in r.pins)
    assert splice(text, plan.edits) == plan.new_text
    again = read(plan.new_text)
    assert [(p.package, p.line, p.version) for p in again.pins] == [
        (p.package, p.line, new[i]) for i, p in enumerate(r.pins)]
    def skeleton(f: ReqFile) -> list[object]:
        return [(e.line, e.name, e.editable, e.pin, [(h.algorithm, h.digest) for h in e.hashes])
                for e in f.entries]

    assert skeleton(again) == skeleton(r)
    assert [(o.name, o.value.text if o.value else None) for o in again.options] == [
        (o.name, o.value.text if o.value else None) for o in r.options]
    assert again.requirements == r.requirements and again.mentions == r.mentions
    # rewriting back gives the original
    back = {(p.package, p.line): p.version for p in r.pins}
    assert plan_file(again.scan(), lambda p: back[(p.package, p.line)]).new_text == text


# -- pip's own parser as the referee -----------------------------------------------------------

_session: list[object] = []  # one for every example: making it costs a tenth of a second


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pip's own vendored packaging
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(text=requirement_files())
def test_pip_reads_the_same_requirements_and_hashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    text: str) -> None:
    (tmp_path / "nested.txt").write_text("")
    (tmp_path / "local-project").mkdir(exist_ok=True)
    (tmp_path / "local-project" / "setup.py").write_text("")
    monkeypatch.chdir(tmp_path)  # pip reads -e ./local-project from the working folder
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("UNSET", "0")  # the tool cannot see it: it reads as some value
    _compare_with_pip(tmp_path, text)


def _compare_with_pip(tmp_path: Path, text: str) -> None:
    # imported here, not at collection: pip's internals cost each worker of the suite 0.4 s
    pip_req_file = pytest.importorskip("pip._internal.req.req_file")
    from pip._internal.network.session import PipSession
    from pip._internal.req.constructors import install_req_from_parsed_requirement

    path = tmp_path / "requirements.txt"
    path.write_bytes(text.encode("utf-8"))
    try:
        if not _session:
            _session.append(PipSession())
        parsed = list(pip_req_file.parse_requirements(str(path), session=_session[0]))
        for q in parsed:  # where pip checks each requirement
            install_req_from_parsed_requirement(q)
        theirs = [(q.requirement.strip(), q.is_editable, sorted(
            f"{a}:{d}" for a, ds in (q.options or {}).get("hashes", {}).items() for d in ds))
            for q in parsed]
    except Exception:  # pip rejects the file: so must we
        with pytest.raises(UserError):
            read(text, ENV)
        return
    r = read(text, ENV)
    assert [(e.text.replace("${UNSET}", "0"), e.editable, sorted(f"{h.algorithm}:{h.digest}" for h in e.hashes))
            for e in r.entries] == theirs
