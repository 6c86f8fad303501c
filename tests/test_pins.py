"""Finding pins: every pip spelling, variables through ENV/ARG scopes, what is left alone."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from release_hook.dockerfile import parse
from release_hook.errors import UserError
from release_hook.pins import Scan, find_pins
from release_hook.shell import parse_script
from release_hook.spans import Mapped

from conftest import FIXTURES


def scan_text(text: str, path: str = "Dockerfile") -> Scan:
    return find_pins(parse(text, path), "numpyro")


def scan(name: str) -> Scan:
    path = FIXTURES / name
    return find_pins(parse(path.read_text(encoding="utf-8"), str(path)), "numpyro")


def pins(s: Scan) -> list[tuple[int, str, str]]:
    return [(p.line, p.package, p.version) for p in s.pins]


def where(s: Scan, pin_index: int) -> str:
    """The file's characters that carry a pin's version."""
    p = s.pins[pin_index]
    return "".join(s.text[o] for o in p.chars.origin)


def test_every_pip_spelling() -> None:
    s = scan("literal.Dockerfile")
    assert pins(s) == [
        (3, "jax", "0.4.1"), (3, "jaxlib", "0.4.1"), (4, "numpyro", "0.6.0"),
        (7, "jax", "0.4.1"),  # after -f/-i/--extra-index-url/-r/-c/-e/paths
        (8, "jax", "0.4.1"),  # python -m pip
        (9, "numpyro", "0.6.0"),  # python3.11 -m pip, with an extra
        (10, "jax-cuda12-plugin", "0.4.31"), (10, "jax-cuda12-pjrt", "0.4.31"),  # uv pip
        (11, "jax", "0.4.1"), (11, "jaxlib", "0.4.1"),  # pip wheel, pip download
        (12, "jax", "0.4.1"),  # a backslash glued to the token
    ]
    assert s.pins[6].extras == frozenset({"cuda12"}) or s.pins[3].extras == frozenset({"cuda12"})
    assert [m.line for m in s.mentions] == [9, 13]  # numpyro[cuda] and a range: listed only


def test_index_addresses_are_not_packages() -> None:
    s = scan("literal.Dockerfile")
    jax7 = s.pins[3]
    assert [(opt, c.text) for opt, c in jax7.addresses] == [
        ("-f", "https://example.invalid/links.html"),
        ("-i", "https://example.invalid/simple"),
        ("--extra-index-url", "https://example.invalid/extra"),
    ]


def test_variables_follow_env_and_arg_scopes() -> None:
    s = scan("variables.Dockerfile")
    assert pins(s) == [(11, "jax", "0.4.1"), (11, "jaxlib", "0.4.1+cuda11.cudnn86"),
                       (12, "numpyro", "0.6.0"), (12, "jax", "0.4.1"), (16, "jax", "0.4.1")]
    text = s.text
    jax = s.pins[0]
    # the version's characters are the ENV value, not the RUN's `${JAX_VERSION}`
    assert text.count("\n", 0, jax.chars.origin[0]) + 1 == 7
    # the global ARG default, through the stage's bare `ARG NUMPYRO_VERSION`
    assert text.count("\n", 0, s.pins[2].chars.origin[0]) + 1 == 2
    assert where(s, 1) == "0.4.1+cuda11.cudnn86"
    # two variables; the `+` is the RUN's own
    assert s.pins[1].chars.via_var == (True,) * 5 + (False,) + (True,) * 14
    assert s.images == ("nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04",) * 2


def test_global_arg_needs_redeclaring_in_the_stage() -> None:
    text = "ARG JAX=0.4.1\nFROM a\nRUN pip install jax==${JAX}\n"
    with pytest.raises(UserError, match=r"Dockerfile:3: jax pin uses \$\{JAX\}"):
        scan_text(text)


def test_a_later_stage_inherits_env_not_arg() -> None:
    text = "FROM a AS one\nARG JAX=0.4.1\nFROM one\nRUN pip install jax==$JAX\n"
    with pytest.raises(UserError, match="Dockerfile:4: jax pin uses"):
        scan_text(text)
    ok = scan_text("FROM a AS one\nENV JAX=0.4.1\nFROM one\nRUN pip install jax==$JAX\n")
    assert pins(ok) == [(4, "jax", "0.4.1")]


def test_env_wins_over_arg_and_values_chain() -> None:
    s = scan_text("FROM a\nARG V=0.4.1\nENV JAX=${V}\nARG JAX=9.9\nRUN pip install jax==$JAX\n")
    assert pins(s) == [(5, "jax", "0.4.1")]
    assert s.text.count("\n", 0, s.pins[0].chars.origin[0]) + 1 == 2


def test_arg_declared_after_use_is_not_in_scope() -> None:
    with pytest.raises(UserError, match="no ENV or ARG defines"):
        scan_text("FROM a\nRUN pip install jax==$JAX\nARG JAX=1\n")


def test_undefined_variable_in_a_kept_pin_is_an_error_but_not_elsewhere() -> None:
    assert pins(scan_text("FROM a\nRUN pip install requests==$UNDEFINED\n")) == []
    with pytest.raises(UserError, match="numpyro pin uses"):
        scan_text("FROM a\nRUN pip install numpyro==${UNDEFINED}\n")


def test_heredocs() -> None:
    s = scan("heredoc.Dockerfile")
    assert pins(s) == [(4, "jax", "0.4.1"), (5, "jaxlib", "0.4.1"), (8, "numpyro", "0.6.0"),
                       (13, "jax", "0.4.1"), (19, "numpyro", "0.6.0")]


def test_exec_form() -> None:
    s = scan("exec.Dockerfile")
    assert pins(s) == [(2, "jax", "0.4.1"), (2, "jaxlib", "0.4.1"), (3, "numpyro", "0.6.0")]
    with pytest.raises(UserError, match="exec form does not expand variables"):
        scan_text('FROM a\nARG J=1\nRUN ["pip", "install", "jax==${J}"]\n')


def test_computed_versions_are_left_alone_with_a_warning() -> None:
    s = scan("computed.Dockerfile")
    assert pins(s) == [(6, "numpyro", "0.6.0")]
    messages = [str(w) for w in s.warnings]
    # NumPyro's own dev image of 2021 did this
    assert any(":3: jaxlib: version computed at build time (xargs -I{})" in m for m in messages)
    assert any(":4: jax: version computed at build time ($(cat /jax-version))" in m for m in messages)
    assert any(":5: jaxlib: version computed at build time (${JAX_VERSION/./})" in m for m in messages)
    assert any(":6: pip run by xargs" in m for m in messages)


def test_unparseable_requirement_where_a_pin_is_expected() -> None:
    with pytest.raises(UserError, match=r"Dockerfile:2: cannot parse requirement 'jax==0\.4\.1\)'"):
        scan_text("FROM a\nRUN pip install 'jax==0.4.1)'\n")


def test_released_package_source_references() -> None:
    s = scan_text(
        "FROM a\nARG V=0.6.0\n"
        "RUN git clone --branch ${V} https://github.com/pyro-ppl/numpyro.git && \\\n"
        "    git clone -b 1.0 https://github.com/google/jax.git && \\\n"
        '    pip install "numpyro @ git+https://github.com/pyro-ppl/numpyro.git@v0.6.0" \\\n'
        "      git+https://github.com/pyro-ppl/numpyro@0.6.0#egg=numpyro\n")
    assert [(p.line, p.kind, p.operator, p.version) for p in s.pins] == [
        (3, "source", "@", "0.6.0"), (5, "source", "@v", "0.6.0"), (6, "source", "@", "0.6.0")]


def test_direct_wheel_urls_of_the_oldest_era_are_listed() -> None:
    s = scan_text("FROM nvidia/cuda:10.1-cudnn7-runtime\nRUN pip install "
                  "https://example.invalid/jax-releases/cuda101/jaxlib-0.1.50-cp37-none-manylinux2010_x86_64.whl\n")
    assert s.pins == ()
    assert [str(m) for m in s.mentions] == [
        "Dockerfile:2: jaxlib 0.1.50 as a direct wheel URL (cuda101): listed, not changed (choose a "
        "tagged pin, jaxlib==X+cudaNNN -f <jax_releases.html>, to have it kept)"]


def test_sh_dash_c_and_wrappers() -> None:
    s = scan_text("FROM a\nRUN sudo -u root env A=1 pip install jax==1.0 && "
                  "bash -c 'pip install jaxlib==1.0' && time python3 -m pip install numpyro==0.1\n")
    assert pins(s) == [(2, "jax", "1.0"), (2, "numpyro", "0.1"), (2, "jaxlib", "1.0")]


def test_shell_variables_set_in_the_same_run() -> None:
    s = scan_text("FROM a\nRUN JAX=0.4.1 && pip install jax==$JAX\n")
    assert pins(s) == [(2, "jax", "0.4.1")]


def test_shell_variables_are_read_in_the_scripts_order() -> None:
    """A value set after the pip command is not the one it installs: all assignments were
    read before any command, so the pin read 0.4.2 and the sync moved `V=0.4.2`."""
    s = scan_text("FROM a\nRUN V=0.4.1 && pip install jax==$V && V=0.4.2 && pip install jaxlib==$V\n"
                  "RUN export W=1.0 && pip install numpyro==$W; export W=2.0\n")
    assert pins(s) == [(2, "jax", "0.4.1"), (2, "jaxlib", "0.4.2"), (3, "numpyro", "1.0")]
    assert [s.text.index("0.4.1"), s.text.index("0.4.2"), s.text.index("1.0")] == \
        [p.chars.origin[0] for p in s.pins]


# What bash installs, checked by running each script with `pip` an echo (the value written
# where the version is read, "where"; the others are set, then gone or not seen).
@pytest.mark.parametrize("dockerfile, where", [
    # `sh -c`'s script runs where the command is, with the exported variables only
    ("FROM a\nRUN export V=0.6.0 && sh -c 'pip install jax==$V' && V=0.5.0\n", "0.6.0"),
    ("FROM a\nRUN V=0.5.0 && sh -c 'pip install jax==${V:-0.6.0}'\n", "0.6.0"),
    ("FROM a\nRUN V=0.5.0 && sh -c 'pip install jax==${V:-0.6.0}' && export V\n", "0.6.0"),
    ("FROM a\nRUN W=0.6.0; V=$W sh -c 'pip install jax==$V'; W=0.5.0\n", "0.6.0"),
    ("FROM a\nRUN sh -c 'set -a'; V=0.5.0; sh -c 'pip install jax==${V:-0.6.0}'\n", "0.6.0"),
    # `export NAME` without a value exports the one it has
    ("FROM a\nRUN V=0.6.0 && export V && sh -c 'pip install jax==$V'\n", "0.6.0"),
    ("FROM a\nRUN export V; V=0.6.0; sh -c 'pip install jax==${V:-0.5.0}'\n", "0.6.0"),
    # a variable of the environment: `unset` hides it, an assignment stays exported
    ("FROM a\nENV V=0.5.0\nRUN unset V && pip install jax==${V:-0.6.0}\n", "0.6.0"),
    ("FROM a\nENV V=0.6.0\nRUN unset -f V && pip install jax==${V:-0.5.0}\n", "0.6.0"),
    ("FROM a\nENV V=0.5.0\nRUN V=0.6.0; sh -c 'pip install jax==$V'\n", "0.6.0"),
    ("FROM a\nARG V=0.5.0\nRUN V=0.6.0; sh -c 'pip install jax==$V'\n", "0.6.0"),
], ids=["sh-c-in-order", "sh-c-not-exported", "exported-after", "prefix-in-order", "inner-set-a",
        "export-name", "export-before-value", "unset-env", "unset-function", "assigned-env", "assigned-arg"])
def test_a_shell_variable_reaches_a_command_as_bash_passes_it(dockerfile: str, where: str) -> None:
    """The pin read, and the characters a sync would move, are the ones bash installs: the
    script of a `sh -c` was read after the whole RUN with every variable of it (the last
    `V=0.5.0`, an unexported one), and an ENV that `unset` removed was still read."""
    s = scan_text(dockerfile)
    assert pins(s) == [(dockerfile.count("\n"), "jax", "0.6.0")]
    assert s.pins[0].chars.origin[0] == dockerfile.index(where)


@pytest.mark.parametrize("run", [
    "V=0.6.0; pip install jax==${V:-}",  # empty word: the value
    "pip install jax==${V-0.6.0}",  # unset: the word
    "V=0.5.0; pip install jax==${V+0.6.0}",  # set: the word
    "V=; pip install jax==0.6.0${V+.1}",  # set, though empty: the word
    "pip install jax==0.6.0${V+.1}",  # unset: nothing
    "V=; pip install jax==0.6.0${V:+.1}",  # empty counts as unset here
    "V=; W=0.6.0; pip install jax==${V:-$W}",  # a variable as the word: the build's to decide
])
def test_every_default_form_of_the_shell_is_read_as_bash_reads_it(run: str) -> None:
    """`${V:-}`, `${V-word}` and `${V+word}` were "computed at build time": the pin was left
    alone and --check passed on a stale version. What bash passes is the answer."""
    said = subprocess.run(["bash", "-c", run.replace("pip install", "echo")], capture_output=True, text=True,
                          check=True).stdout.strip()
    s = scan_text(f"FROM a\nRUN {run}\n")
    if "$W" in run:  # the word's own expansion is not followed
        assert pins(s) == [] and "computed at build time" in s.warnings[0].message
        return
    assert pins(s) == [(2, "jax", said.split("==")[1])]
    assert "".join(s.text[o] for o in s.pins[0].chars.origin) == s.pins[0].version  # what a sync moves


@pytest.mark.parametrize("dockerfile", [
    "FROM a\nENV V=0.5.0\nRUN unset V && pip install jax==${V-0.6.0}\n",
    "FROM a\nARG V=0.5.0\nRUN unset V; pip install jax==0.6.0${V+.1}\n",
    "FROM a\nENV V=0.5.0\nRUN unset V; sh -c 'pip install jax==${V-0.6.0}'\n",
    "FROM a\nARG V=0.5.0\nRUN unset V; export V; sh -c 'pip install jax==0.6.0${V+.1}'\n",
    "FROM a\nENV V=\nRUN pip install jax==0.6.0${V+}${V-.1}\n",  # set, though empty
])
def test_an_env_or_arg_value_unset_in_the_run_is_unset_for_the_dash_and_plus_forms(dockerfile: str) -> None:
    """`unset V` of an ENV or ARG value hid it as an empty value: `${V-0.6.0}` read "" (no pin
    could be read) and `${V+.1}` added ".1", where bash takes the word and nothing."""
    env, run = dockerfile.splitlines()[1:]
    script = f"export {env[4:]}; {run[4:]}".replace("pip install", "echo")
    said = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    s = scan_text(dockerfile)
    assert pins(s) == [(3, "jax", said.split("==")[1])]
    assert "".join(s.text[o] for o in s.pins[0].chars.origin) == s.pins[0].version  # what a sync moves


@pytest.mark.parametrize("options", [
    "-o -a",  # -o lists the options: the next word is no name when it looks like an option
    "+ -a",  # a lone + sets nothing, and the options go on
    "-o '' -a",  # an empty word after -o ends the options
    "-a -o +a",
    "-aZ", "-Za", "-o allexport -Z", "--a", "-a --help",  # an unknown letter: nothing changes
    "-o nosuch -a", "-a -o nosuch",  # an unknown name: what came before it stays
    "-oallexport",  # `-o` lists, then -a, -l (unknown): allexport stays on
    "-ao allexport -- x", "-euo pipefail -a",
])
def test_set_options_export_as_bash_reads_them(options: str) -> None:
    """`set`'s words read as bash reads them (an unknown option makes the whole command do
    nothing; -o takes the next word only when it is not an option): an assignment after it is
    passed to `sh -c` only when bash exports it."""
    run = f"set {options}; V=0.5.0; sh -c 'pip install jax==${{V:-0.6.0}}'"
    said = subprocess.run(["bash", "-c", run.replace("pip install", "echo")], capture_output=True,
                          text=True).stdout.split()[-1]
    s = scan_text(f"FROM a\nRUN {run}\n")
    assert pins(s) == [(2, "jax", said.split("==")[1])]


def test_only_pip_install_download_wheel_carry_pins() -> None:
    assert pins(scan_text("FROM a\nRUN pip uninstall -y jax==0.4.1 && pip show jax && "
                          "echo pip install jax==0.4.1\n")) == []


def test_non_ascii_text_keeps_offsets() -> None:
    text = "FROM a\n# café ☕\nRUN echo 'ünïcode' && pip install jax==0.4.1\n"
    s = scan_text(text)
    assert where(s, 0) == "0.4.1"


def test_real_numpyro_2021_shape(tmp_path: Path) -> None:
    s = scan("numpyro-2021.Dockerfile")
    assert pins(s) == [(21, "jax", "0.2.10"), (21, "jaxlib", "0.1.62+cuda112"), (23, "numpyro", "0.6.0")]
    assert s.images == ("nvidia/cuda:11.2.2-cudnn8-devel-ubuntu20.04",)


def test_a_bad_value_is_reported_at_the_line_that_holds_it() -> None:
    text = "FROM a\nARG JAX_VERSION=0.4.x\nARG OTHER=1\nRUN pip install \\\n  \"jax==${JAX_VERSION}\"\n"
    with pytest.raises(UserError) as e:
        scan_text(text)
    assert str(e.value).startswith("Dockerfile:2: cannot parse requirement 'jax==0.4.x' (used at line 5): ")
    assert "\n" not in str(e.value)
    # the RUN's own text is at fault: reported there, with no "used at"
    with pytest.raises(UserError, match=r"^Dockerfile:5: cannot parse requirement 'jax==0\.4\.1;;': "):
        scan_text("FROM a\nARG OTHER=1\nRUN pip install \\\n  echo \\\n  'jax==0.4.1;;'\n")


def test_line_numbers_of_many_pins_come_from_one_pass_over_the_text() -> None:
    from release_hook.textlines import line_starts

    blocks = [f"ARG V{n}=0.4.{n}\nRUN pip install \\\n    jax==${{V{n}}} \\\n    numpyro==0.{n}.0\n"
              for n in range(3000)]
    text = "FROM a\n" + "".join(blocks)
    line_starts.cache_clear()
    s = scan_text(text)
    assert line_starts.cache_info().misses == 1  # the file's lines were counted once
    assert len(s.pins) == 6000
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]  # counted here, not by the tool
    for p in s.pins[::97]:
        assert p.line == text.count("\n", 0, text.index(f"{p.package}==", starts[p.line - 1])) + 1
        assert p.defined_at(text) == ("" if p.package == "numpyro" else
                                      f" (set at line {text.count(chr(10), 0, p.chars.origin[0]) + 1})")


@pytest.mark.parametrize("run", [
    "if true; then V=0.6.0; else V=0.5.0; fi && pip install jax==$V",  # the else branch was taken
    "for i in $(seq 1); do V=0.6.0; done; pip install jax==$V",
    "true || V=0.5.0; pip install jax==${V:-0.6.0}",  # bash: 0.6.0; the word would not move
    "V=0.6.0; true || unset V; pip install jax==${V:-0.5.0}",  # bash: 0.6.0; the unset did not run
    "V=0.6.0; if false; then unset V; fi; pip install jax==${V:-0.5.0}",
    "V=0.6.0; true || export V; sh -c 'pip install jax==${V:-0.5.0}'",  # bash: 0.5.0, not exported
    "set -- 0.6.0; pip install jax==$1",  # a positional parameter: refused as an undefined ENV before
    "pip install jax==${1:-0.6.0}",
    "true || : ${A:=0.5.0}; pip install jax==${A:-0.6.0}",  # bash: 0.6.0; the := did not run
    "[ -f /nonexistent ] && V=0.5.0; pip install jax==${V:-0.6.0}",  # bash: 0.6.0; was read 0.5.0
    "V=0.6.0; test -n \"$CI\" && export V=0.5.0; sh -c 'pip install jax==${V:-0.5.0}'",
], ids=["branch", "loop", "after-or", "unset-after-or", "unset-in-branch", "export-after-or",
        "positional", "positional-default", "assigning-default-after-or", "after-a-test", "export-after-a-test"])
def test_a_variable_set_where_it_may_not_reach_the_command_is_the_builds_to_decide(run: str) -> None:
    """An assignment that may not happen or not reach the pip command after it (found by the
    audit: the tool took the last value seen and moved that assignment, so the image kept its
    version while --check passed) makes the version one the build decides: warned, left alone."""
    s = scan_text(f"FROM a\nRUN {run}\n")
    assert s.pins == () or all(p.chars.computed for p in s.pins), pins(s)
    assert any("version computed at build time" in n.message for n in s.warnings), s.warnings


@pytest.mark.parametrize("run", [
    "V=0.6.0; V=0.5.0 | true; pip install jax==$V",
    "V=0.6.0; V=0.5.0 & pip install jax==$V",
    "export V=0.6.0; export V=0.5.0 | cat; bash -c 'pip install jax==$V'",
    "V=0.6.0; { V=0.5.0; } & pip install jax==$V",
    "V=0.6.0; true && V=0.5.0 & wait; pip install jax==$V",
])
def test_what_a_pipeline_element_or_a_background_command_sets_ends_with_it(run: str) -> None:
    """Each element of a pipeline, and a command run with `&`, runs in a shell of its own:
    `V=0.5.0 | true` leaves V as it was (bash installs 0.6.0). The walk had let such an
    assignment reach the commands after it, or made it the build's to decide."""
    assert_read_as_bash({}, run)


@pytest.mark.parametrize("run", [
    "V=0.6.0; V=0.5.5 && cat </dev/null | true; pip install jax==$V",
    "V=0.6.0; true | V=0.5.1 | { true; } && V=0.5.9 && pip install jax==$V",
])
def test_a_list_the_grammar_puts_inside_a_pipeline_is_not_taken_for_a_shell_of_its_own(run: str) -> None:
    """tree-sitter-bash reads `a && b <f | c` as a pipeline of `a && b <f` and `c`, where bash
    pipes only `b <f` (and nests `x | a=1 | b && c` the other way round). Taking such a list
    for a shell of its own dropped what `a` sets: 0.6.0 read where bash installs 0.5.5 (found
    comparing 1,500 random scripts with bash). What it sets is left to the build, as before."""
    s = scan_with({}, run)
    assert bash_pins({}, run)[0][1] != "0.6.0"
    assert s.pins == () and [w.message for w in s.warnings] == ["jax: version computed at build time (${V}), left alone"]


@pytest.mark.parametrize("cd, where", [
    ("cd {app}; cd sub", "{app}/sub"),
    ("( cd {app} )", "{work}"),
    ("{{ cd {app}; }} && cat </dev/null | true", "{app}"),  # the grammar pipes the whole list
    ("{{ cd {app}; }} && cd sub 2>/dev/null | cat", "{app}"),  # ...and bash only the cd with the redirect
    ("cd {app} && cat </dev/null | true", "{app}"),
    ("cd {app} 2>/dev/null | cat", "{work}"),
    ("true || cd {app}", None),
    ("[ -d {work}/nope ] && cd {app}", None),  # a test's `&&` is an `if`: was read as {app}
    ("[[ -d {app} ]] && cd {app}", None),
    ("test -d {work}/nope && cd {app}", None),
    ("(( 0 )) && cd {app}", None),
    ("mkdir -p {app} && cd {app}", "{app}"),  # after a step, not a test: it runs
    ("CDPATH={app}; cd sub", None),  # bash goes to {app}/sub: was read as {work}/sub
    ("CDPATH={app}; cd ./sub", "{work}/sub"),
    ("CDPATH={app}; unset CDPATH; cd sub", "{work}/sub"),
    ("cd {app} {work}/sub", None),  # bash: too many arguments, stays; dash goes: was read as {app}
    ("nice cd {app}", "{work}"),  # a program named cd, not the shell's: was read as {app}
    ("env cd {app}", "{work}"),
    ("timeout 5 pushd {app}", "{work}"),
    ("builtin cd {app}", "{app}"),  # bash's own wrappers run the builtin in the shell
    ("time -p command cd {app} 2>/dev/null", "{app}"),
    ("if [ -d {app} ]; then cd {app}; fi", None),
    ("for d in {app}; do cd $d; done", "{app}"),  # a loop over plain words: each run is read
    ("for d in $(echo {app}); do cd $d; done", None),
    ("cd $(mktemp -d)", None),
    ("cd", None),
    ("cd $HOME", None),  # no ENV defines it: the build's (was read as the folder `{work}/${{HOME}}`)
    ("cd $HOME; cd {app}", "{app}"),
    ("cd {app} && cd -", None),
    ("pushd {app} >/dev/null", "{app}"),
    ("pushd {app} >/dev/null && popd >/dev/null", None),
    ("eval cd {app}", None),
    ("eval \"$(echo x=1)\"", "{work}"),
])
def test_where_a_cd_leaves_the_next_pip_is_read_as_bash_goes_or_left_to_the_build(
        tmp_path: Path, cd: str, where: str | None) -> None:
    """A `cd` that may not run (a branch, a loop, after `||` or a test's `&&`) or goes where only the build knows
    (`$(mktemp -d)`, $HOME, `-`) leaves the folder of the commands after it to the build: their
    relative -r files are not read, and said so. Before, such a cd was taken as done (`true ||
    cd /app` read /app's file) or passed over (`cd $(mktemp -d)` read the old folder's). Where
    the folder is known it is the one bash runs the next pip in."""
    work, app = tmp_path / "work", tmp_path / "app"
    (app / "sub").mkdir(parents=True)
    (work / "sub").mkdir(parents=True)
    script = cd.format(app=app, work=work) + "; pip install -r r.txt"
    s = scan_text(f"FROM python:3.12\nWORKDIR {work}\nRUN {script}\n")
    (arg,) = [f for st in s.stages for pip in st.pips for f in pip.files]
    bash = subprocess.run(["bash", "-c", 'pip() { printf %s "$PWD"; }; ' + script], cwd=work, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}).stdout
    if where is None:
        assert arg.path == "" and arg.why.startswith("the folder it is read in is the build's to decide"), arg
    else:
        assert arg.path == f"{where.format(app=app, work=work)}/r.txt" == f"{bash}/r.txt"


def test_a_cd_in_a_pipeline_or_in_the_background_leaves_the_next_pip_where_it_was(cli, tmp_path: Path) -> None:
    """`cd /app | tee log; pip install -r requirements.txt` reads /work's file, as bash runs it
    (the `cd` runs in a shell of its own); the walk had followed the `cd` and read /app's."""
    (tmp_path / "requirements.txt").write_text("jax==0.4.30\n")
    (tmp_path / "other.txt").write_text("jax==0.4.20\n")
    (tmp_path / "setup.cfg").write_text("[release_hook]\npackage = numpyro\n")
    for cd in ("cd /app | tee log", "cd /app &", "cd /app 2>&1 | cat"):
        text = ("FROM python:3.12\nWORKDIR /work\nCOPY requirements.txt /work/requirements.txt\n"
                f"COPY other.txt /app/requirements.txt\nRUN {cd}; pip install -r requirements.txt\n")
        (tmp_path / "Dockerfile").write_text(text)
        r = cli("sync", "Dockerfile", "--check", "--version", "0.1.0", "--pin", "jax==0.4.31", "--offline",
                cwd=tmp_path)
        assert r.code == 1 and r.out == "requirements.txt:1: jax ==0.4.30, expected 0.4.31\n", (cd, r.out, r.err)


@pytest.mark.parametrize("run, where", [
    ("env -C {app} pip install -r r.txt", "{app}"),
    ("env --chdir=sub pip install -r r.txt", "{work}/sub"),
    ("cd {app} && env -C.. pip install -r r.txt", "{tmp}"),
    ("env -C {app} sh -c 'pip install -r r.txt'", "{app}"),
    ("env -C {app} env -C sub pip install -r r.txt", "{app}/sub"),
])
def test_a_command_run_in_another_folder_reads_its_files_there(tmp_path: Path, run: str, where: str) -> None:
    """`env -C /app pip install -r r.txt` reads /app/r.txt, as the pip that env runs there does;
    the walk read the shell's folder's file."""
    work, app = tmp_path / "work", tmp_path / "app"
    for d in (work / "sub", app / "sub", tmp_path / "bin"):
        d.mkdir(parents=True)
    (tmp_path / "bin" / "pip").write_text('#!/bin/sh\nprintf %s "$PWD"\n')
    (tmp_path / "bin" / "pip").chmod(0o755)
    script = run.format(app=app)
    s = scan_text(f"FROM python:3.12\nWORKDIR {work}\nRUN {script}\n")
    (arg,) = [f for st in s.stages for pip in st.pips for f in pip.files]
    bash = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True, text=True,
                          env={"PATH": f"{tmp_path}/bin:/usr/bin:/bin"}).stdout
    assert arg.path == f"{where.format(app=app, work=work, tmp=tmp_path)}/r.txt" == f"{bash}/r.txt"


@pytest.mark.parametrize("run, where", [
    ("uv --directory /app pip install -r r.txt", "/app/r.txt"),  # uv 0.13: a global option anywhere
    ("uv pip install --directory /app -r r.txt", "/app/r.txt"),
    ("conda run --cwd /app -n base pip install -r r.txt", "/app/r.txt"),
    ("sudo -D /app pip install -r r.txt", "/app/r.txt"),  # if sudo lets it, there; or not at all
    ("sudo -i pip install -r r.txt", ""),  # the target user's home
    ("env -C $NOWHERE pip install -r r.txt", ""),
])
def test_a_folder_given_to_uv_conda_or_sudo_is_where_their_command_reads_its_files(run: str, where: str) -> None:
    s = scan_text(f"FROM python:3.12\nWORKDIR /work\nRUN {run}\n")
    assert [f.path for st in s.stages for pip in st.pips for f in pip.files] == [where]
    assert [r.text for st in s.stages for pip in st.pips for r in pip.requirements] == []


@pytest.mark.parametrize("run, home", [
    ("pip install -r ~/r.txt", True),
    ("D=~/app; pip install -r $D/r.txt", True),
    ("pip install -r ~root/r.txt", True),
    ('pip install -r "~/r.txt"', False),  # quoted: the characters as written
    ("pip install -r \\~/r.txt", False),
    ("pip install --requirement=~/r.txt", False),  # not at the word's start
])
def test_a_file_under_a_tilde_is_in_the_home_folder_the_build_sets(tmp_path: Path, run: str, home: bool) -> None:
    """`pip install -r ~/requirements.txt` read `/work/~/requirements.txt` (the `~` as a folder
    name), where bash passes the file in $HOME, which the build sets: left to it, and said."""
    s = scan_text(f"FROM python:3.12\nWORKDIR {tmp_path}\nRUN {run}\n")
    (arg,) = [f for st in s.stages for pip in st.pips for f in pip.files]
    bash = subprocess.run(["bash", "-c", 'pip() { printf %s "${@: -1}"; }; ' + run], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "HOME": "/home/x"}).stdout.split("=")[-1]
    if home:
        assert not bash.startswith("~") and (arg.path, arg.why) == ("", "computed at build time"), arg
    else:
        assert arg.path == f"{tmp_path}/{bash}"


@pytest.mark.parametrize("run", [
    "V=0.6.0; ( V=0.5.0 ); pip install jax==$V",
    "( V=0.6.0; pip install jax==$V )",
    "V=0.5.0; ( V=0.6.0; pip install jax==$V ); pip install jaxlib==$V",
    "V=0.4.0; ( V=0.5.0; ( V=0.6.0; pip install jax==$V ); pip install jaxlib==$V ); pip install numpyro==$V",
    "( cd /tmp && V=0.6.0 && pip install jax==$V ) && pip install jaxlib==${V:-0.5.0}",
    "( export V=0.5.0 ); sh -c 'pip install jax==${V:-0.6.0}'",
    "( set -a; V=0.5.0 ); V=0.4.0; sh -c 'pip install jax==${V:-0.6.0}'",
    "V=0.6.0; ( unset V ); pip install jax==$V",
    "V=0.6.0; (pip install jax==$V; V=0.5.0); pip install jaxlib==$V",
    "V=0.6.0; X=$(V=0.5.0; unset V); pip install jax==$V",  # a command substitution's shell is its own
])
def test_a_subshell_sets_its_variables_for_itself_as_bash_does(run: str) -> None:
    """`( V=0.6.0; pip install jax==$V )` was left alone as computed at build time (an
    assignment in a subshell was taken as uncertain), and `--check` passed on a stale version.
    Inside, its assignments are certain; they end where it ends. What bash passes is the
    answer, and each pin moves the characters it was read from."""
    said = subprocess.run(["bash", "-c", run.replace("pip install", "echo")], capture_output=True, text=True,
                          check=True).stdout.split()
    s = scan_text(f"FROM a\nRUN {run}\n")
    assert [(p.package, p.version) for p in s.pins] == [tuple(w.split("==")) for w in said], s.warnings
    assert_moves_only_versions(s)


# What the RUN's ENV gives, as (name, value): bash gets them in its environment below.
SPLIT_ENV = (("PKGS", "jax==0.4.30 jaxlib==0.4.30"), ("PIP", "python3.11 -m pip"), ("EMPTY", ""))


@pytest.mark.parametrize("run", [
    "pip install $PKGS",
    "pip install ${PKGS} numpyro==0.16.0",
    "$PIP install jax==0.4.30",
    "sudo $PIP install $PKGS",
    "pip install $EMPTY jax==0.4.30 $EMPTY",
    "V='0.4.30 scipy<1.13'; pip install jax==$V",
    "V='0.4.30   '; pip install jax==$V jaxlib==0.4.30",
    "pip install \"jax==${EMPTY:-0.4.30}\" $PKGS",
])
def test_an_unquoted_expansion_is_split_into_words_as_bash_splits_it(run: str) -> None:
    """`ENV PKGS="jax==0.4.30 jaxlib==0.4.30"` then `RUN pip install $PKGS` was refused as one
    requirement ("cannot parse requirement 'jax==0.4.30 jaxlib==0.4.30'"), and `$PIP install`
    with PIP="python3.11 -m pip" was not read at all. bash splits an unquoted expansion's value
    at blanks: the words pip gets are bash's, and each pin's characters are in the ENV line."""
    env = "".join(f'ENV {name}="{value}"\n' for name, value in SPLIT_ENV)
    shown = "show() { printf '%s\\n' \"$@\"; }; pip() { show \"$@\"; }; python3.11() { show \"$@\"; }; sudo() { \"$@\"; }; "
    said = subprocess.run(["bash", "-c", shown + run], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", **dict(SPLIT_ENV)}).stdout.split("\n")
    kept = [tuple(w.split("==")) for w in said if w.split("==")[0] in ("jax", "jaxlib", "numpyro")]
    s = scan_text(f"FROM python:3.12\n{env}RUN {run}\n")
    assert [(p.package, p.version) for p in s.pins] == kept, said
    for p in s.pins:
        assert "".join(s.text[o] for o in p.chars.origin) == p.version  # what a sync moves
    if "$PIP" in run:  # the Python that runs it is the one the variable names
        assert [i.python.value if i.python else None for i in s.stages[0].pips] == ["3.11"]


def scan_with(env: dict[str, str], run: str) -> Scan:
    """A RUN after one ENV line per variable of `env`."""
    return scan_text("FROM python:3.12\n" + "".join(f'ENV {k}="{v}"\n' for k, v in env.items()) + f"RUN {run}\n")


def assert_read_as_bash(env: dict[str, str], run: str) -> None:
    """The RUN (after `env`'s ENV lines) is read as bash passes its pins, and says nothing."""
    s = scan_with(env, run)
    assert [(p.package, p.version) for p in s.pins] == bash_pins(env, run), s.warnings
    assert_moves_only_versions(s)


def assert_said_and_left(env: dict[str, str], run: str, line: int, message: str) -> None:
    """bash installs jax==0.4.30 from the RUN; the walk does not follow it there, and says so:
    one warning, at `line`, no pin."""
    s = scan_with(env, run)
    assert ("jax", "0.4.30") in bash_pins(env, run)
    assert s.pins == ()
    assert [(w.line, w.message) for w in s.warnings] == [(line, message)]


def assert_moves_only_versions(s: Scan) -> None:
    """Nothing said, and each pin's characters in the file spell its version: what a sync moves."""
    assert not s.warnings, s.warnings
    for p in s.pins:
        assert "".join(s.text[o] for o in p.chars.origin) == p.version


def bash_pins(env: dict[str, str], run: str) -> list[tuple[str, ...]]:
    """The kept pins `pip install` gets when bash runs `run` with `env` in its environment."""
    shown = ("show() { printf '%s\\n' \"$@\"; }; pip() { show \"$@\"; }; python3.11() { show \"$@\"; }; "
             "export -f show pip python3.11; ")  # a `bash -c` inside gets them too
    said = subprocess.run(["bash", "-c", shown + run], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", **env}).stdout.split("\n")
    return [tuple(w.split("==")) for w in said if w.split("==")[0] in ("jax", "jaxlib", "numpyro")]


@pytest.mark.parametrize("run", [
    'bash -c "pip install jax==$V"',
    'bash -c "pip install $PKGS"',
    'bash -c "pip install \\"jax==$V\\" numpyro==0.16.0"',
    'bash -c "V=0.4.1; pip install jax==\\$V"',
    "bash -c 'pip install '$PKGS",
])
def test_a_shell_script_built_with_variables_is_read_as_the_inner_shell_gets_it(run: str) -> None:
    """`sh -c "pip install jax==$V"` was not read at all (only a script of plain characters
    was), and said nothing: --check passed on a stale pin. The outer shell expands the script
    first; the inner one reads what it is given, and a version that came from an ENV value is
    moved there."""
    env = {"V": "0.4.30", "PKGS": "jax==0.4.30 jaxlib==0.4.30"}
    assert_read_as_bash(env, run)


@pytest.mark.parametrize("run", [
    "pip install ${A:-jax==0.4.28}",
    'pip install "${A:-jax==0.4.28}"',
    "pip install ${B:+jaxlib==0.4.28} numpyro==0.16.0",
    "B=1; pip install ${B:+jaxlib==0.4.28}",
    "pip install ${A:-jax==0.4.28 jaxlib==0.4.28}",
    "A=; pip install ${A-jax==0.4.27} ${A:-jaxlib==0.4.28}",
])
def test_a_default_that_is_a_whole_requirement_is_read_as_bash_passes_it(run: str) -> None:
    """`pip install ${A:-jax==0.4.28}` was passed over without a word: the grammar reads the
    default `jax==0.4.28` as pieces (a name, then the rest), which was taken as something only
    the build knows, and --check passed on a stale pin."""
    assert_read_as_bash({}, run)


@pytest.mark.parametrize("run", [
    ": ${A:=0.4.1}; pip install jax==$A",
    "pip install jax==${A:=0.4.1} jaxlib==$A",
    "A=0.4.2; : ${A:=0.4.1}; pip install jax==$A",
    "A=; : ${A=0.4.1}; pip install jax==${A:-0.4.3}",
    "V=${A:=0.4.1}; pip install jax==$A jaxlib==$V",
])
def test_an_assigning_default_sets_its_variable_as_bash_does(run: str) -> None:
    """`: ${A:=0.4.1}; pip install jax==$A` installs 0.4.1; the tool refused it (exit 2) as a
    variable no ENV or ARG defines. `${A:=word}` gives what `${A:-word}` gives and sets A to
    it; the version moves in the default's word."""
    assert_read_as_bash({}, run)


@pytest.mark.parametrize("run", [
    "V=0.4; V+=.30; pip install jax==$V",
    "V+=0.4.30; pip install jax==$V",  # unset before: the word alone
    "V=0.4; V+=.30 bash -c 'pip install jax==$V'",
    "export V=0.4; export V+=.30; bash -c 'pip install jax==$V'",
    "P=jax==0.4.30; P+=' numpyro==0.16.0'; pip install $P",
])
def test_an_appending_assignment_adds_to_the_value_as_bash_does(run: str) -> None:
    """`V=0.4; V+=.30` gave V the value `.30` (the `+=` read as `=`): pip refused `jax==.30`,
    or a pin read a value bash never passes. Its characters stay where each part is written."""
    assert_read_as_bash({}, run)


@pytest.mark.parametrize("run", [
    "V=0.5.0; V=0.6.0 W=$V bash -c 'pip install jax==$W'",
    "V=0.6.0 W=$V bash -c 'pip install jax==$W'",
    "V=0.4; V=$V.30 W=$V bash -c 'pip install jax==$W'",
])
def test_a_commands_own_assignments_are_read_one_after_another_as_bash_does(run: str) -> None:
    """`V=0.6.0 W=$V sh -c '...'`: bash gives W the V just before it; W was read with the V of
    before (0.5.0, or refused as no ENV defining it)."""
    assert_read_as_bash({}, run)


def test_a_constraint_given_with_a_variable_of_the_same_command_is_the_one_bash_passes() -> None:
    run = "C=/c.txt; C=/d.txt PIP_CONSTRAINT=$C pip install x"
    said = subprocess.run(["bash", "-c", 'pip() { printf %s "$PIP_CONSTRAINT"; }; ' + run], capture_output=True,
                          text=True).stdout
    s = scan_with({}, run)
    assert [f.path for pip in s.stages[0].pips for f in pip.files] == [said] == ["/d.txt"]


@pytest.mark.parametrize("run", [
    "JAX=0.4.30 JAXLIB=0.4.30\npip install jax==$JAX jaxlib==$JAXLIB",
    "V=0.4.20\nV=0.4.30 W=1\npip install jax==$V",
    "V=0.4.20\nV=0.4.30 W=1  # the version\n\npip install jax==$V",
    "V=0.4.30; V=0.4.20 W=1 \\\n  pip install jax==$V",  # a line continuation: V is pip's own
])
def test_assignments_on_a_line_of_their_own_are_the_shells_as_bash_reads_them(run: str) -> None:
    """tree-sitter-bash reads `A=1 B=2<newline>pip install ...` as one command with A and B
    its own: in a heredoc RUN, `JAX=0.4.30 JAXLIB=0.4.30` then `pip install jax==$JAX` was
    refused (no ENV defines JAX), or read the value of before (0.4.20 where bash installs
    0.4.30). Found comparing random scripts with bash."""
    s = scan_text(f"FROM python:3.12\nRUN <<EOF\n{run}\nEOF\n")
    assert [(p.package, p.version) for p in s.pins] == bash_pins({}, run), s.warnings
    assert_moves_only_versions(s)


def test_a_shell_script_computed_at_build_time_is_said_not_passed_over() -> None:
    s = scan_text('FROM python:3.12\nRUN sh -c "pip install jax==$(cat /v)"\n')
    assert s.pins == ()
    assert [(w.line, w.message) for w in s.warnings] == [
        (2, "the script of `sh -c` is computed at build time: pins in it are not read")]


@pytest.mark.parametrize("run, read", [
    ("IFS=.; pip install jax==$V", []),  # bash passes jax==0, 4 and 30
    ("IFS=,; pip install $PKGS jaxlib==0.4.30", [("jaxlib", "0.4.30")]),  # one word "jax==0.4.30 jaxlib..."
    ("export IFS=; pip install jax==$V $PKGS", []),
    ("true || IFS=.; pip install jax==$V", []),
    ("IFS=.; (IFS=' '; pip install jax==$V)", []),
    # where IFS is bash's again: read as before
    ("(IFS=.); pip install jax==$V", [("jax", "0.4.30")]),
    ("IFS=.; unset IFS; pip install $PKGS", [("jax", "0.4.30"), ("jaxlib", "0.4.30")]),
    ("IFS=. pip install jax==$V", [("jax", "0.4.30")]),  # the command's own IFS: its words are split before
    ("export IFS=.; bash -c 'pip install jax==$V'", [("jax", "0.4.30")]),  # a new shell starts with bash's IFS
])
def test_a_script_that_sets_ifs_leaves_its_unquoted_expansions_to_the_build(run: str,
                                                                             read: list[tuple[str, str]]) -> None:
    """`IFS=.; pip install jax==$V` passes pip jax==0, 4 and 30: bash splits an unquoted
    expansion at the characters of IFS, which the tool read as blanks whatever the script set,
    claiming jax==0.4.30. Where the script sets IFS, its unquoted expansions are computed."""
    env = {"V": "0.4.30", "PKGS": "jax==0.4.30 jaxlib==0.4.30"}
    s = scan_with(env, run)
    assert [(p.package, p.version) for p in s.pins] == read
    bash = bash_pins(env, run)
    assert all(pin in bash for pin in read), bash
    if "jax==$V" in run and ("jax", "0.4.30") not in read:
        assert [w.message for w in s.warnings] == ["jax: version computed at build time (${V} split at the "
                                                   "IFS the RUN sets), left alone"]


@pytest.mark.parametrize("run", [
    "set -- 0.4.2; for V; do pip install jax==$V; done",  # the positional parameters
    "for V in $(echo 0.4.1); do pip install jax==$V; done",
    "for V in 0.4.1; do pip install jax==$V || break; done",  # a run may stop early
    "if true; then for V in 0.4.1; do pip install jax==0.4.1; done; fi; pip install jax==$V",
])
def test_a_loop_variable_is_the_loops_to_set(run: str) -> None:
    """`for V in 0.4.1; do pip install jax==$V; done` installs 0.4.1, and V is still 0.4.1
    after it; the tool read ENV V=0.4.30 there (a loop's variable was no assignment to it).
    Where the loop's words are not plain, or it may not run or stop early, its values are each
    run's: a pin that reads it is computed; one that does not is read."""
    s = scan_with({"V": "0.4.30"}, run)
    bash = bash_pins({"V": "0.4.30"}, run)
    assert ("jax", "0.4.30") not in bash
    assert [(p.package, p.version) for p in s.pins] == ([("jax", "0.4.1")] if "jax==0.4.1" in run else [])
    assert all((p.package, p.version) in bash for p in s.pins)
    assert [w.message for w in s.warnings][-1].startswith("jax: version computed at build time (${V")


@pytest.mark.parametrize("run", [
    "for p in $(echo a b); do pip install jax==$V; V=0.4.1; done",
    "for p in $(echo a b); do pip install jax==$V && for q in x; do V=0.4.1; done; done",
])
def test_what_a_loops_body_sets_is_the_builds_from_its_start(run: str) -> None:
    """A second run of a loop's body reads what the first set: bash installs jax==0.4.30, then
    jax==0.4.1, where the tool read V=0.4.30 for both. Such a variable is the build's from the
    body's start: the pin that reads it is said and left alone."""
    assert_said_and_left({"V": "0.4.30"}, run, 3, "jax: version computed at build time (${V}), left alone")


@pytest.mark.parametrize("run, variable", [
    ("for ((i=0; i<2; i++)); do pip install jax==0.4.$i; done", "i"),
    ("i=5; for ((; i<7; i++)); do pip install jax==0.4.$i; done", "i"),
    ("while [ -z \"$D\" ] || [ -z \"$E\" ]; do pip install jax==$V; V=0.4.1; E=$D; D=1; done", "V"),
    ("until [ -n \"$D\" ]; do pip install jax==$V; [ -n \"$E\" ] && D=1; E=1; V=0.4.1; done", "V"),
])
def test_what_a_while_or_counting_loop_moves_is_the_builds(run: str, variable: str) -> None:
    """`for ((i=0; i<2; i++))` installs jax==0.4.0 and jax==0.4.1; the tool read i=0 once (and a
    sync would have moved the header's `0`). A `while` / `until` body's second run reads what
    the first set. Each such variable is the build's from the body's start: said, left alone."""
    s = scan_with({"V": "0.4.30"}, run)
    assert len(set(bash_pins({"V": "0.4.30"}, run))) == 2
    assert s.pins == ()
    assert [w.message for w in s.warnings] == [f"jax: version computed at build time (${{{variable}}}), left alone"]


@pytest.mark.parametrize("run", [
    "for p in jax jaxlib; do case $p in jax) pip install $p==0.4.30 ;; *) pip install $p==0.4.29 ;; esac; done",
    "for p in jax jaxlib; do if [ $p = jax ]; then pip install $p==0.4.30; else pip install $p==0.4.29; fi; done",
    "for p in jax jaxlib; do [ $p = jaxlib ] || pip install $p==0.4.30; done; pip install jaxlib==0.4.29",
])
def test_a_loop_whose_body_branches_is_not_read_once_per_word(run: str) -> None:
    """Read once per word, a body that branches on the word gave pins bash never installs
    (jaxlib==0.4.30 beside jax==0.4.30 from a `case` on p), sharing characters with real ones:
    an in-step file was refused. Such a loop's variable is the build's: said, left alone."""
    s = scan_with({}, run)
    pins = [(p.package, p.version) for p in s.pins]
    assert all(pin in bash_pins({}, run + "; true") for pin in pins)
    assert ("jax", "0.4.30") not in pins
    assert [w.message for w in s.warnings][0].startswith("${p}==0.4.30: a pin of a package")


@pytest.mark.parametrize("run", [
    "V=0.4.29; for x in $(echo a b); do pip install jax==$V; read V <<< 0.4.31; done",
    "V=0.4.29; for x in $(echo a b); do pip install jax==$V; printf -v V %s 0.4.31; done",
    "V=0.4.29; for x in $(echo a b); do pip install jax==$V; let V=5; done",
    "V=0.4.29; for x in $(echo a b); do pip install jax==${V:-0.4.31}; unset V; done",
    "for v in 0.4.29 0.4.31; do pip install jax==$v; exit 0; done",  # a run that stops the script
])
def test_what_a_builtin_or_unset_sets_in_a_loops_body_is_the_builds(run: str) -> None:
    """A second run of the body reads what `read`, `printf -v`, `let` or `unset` did in the first
    (bash installs jax==0.4.29, then another); the tool read 0.4.29 for both."""
    s = scan_with({}, run)
    assert ("jax", "0.4.29") in bash_pins({}, run) and s.pins == ()
    assert [w.message for w in s.warnings][0].startswith("jax: version computed at build time (${")


def test_shells_started_in_loops_are_read_up_to_a_bound_and_the_rest_said() -> None:
    """Found by a trial: a loop of 40 words starting a shell whose loop starts another made
    64,000 scripts to read (6.6 s, forty times more per level): a bound per RUN, and a word."""
    words = " ".join(f"w{i}" for i in range(40))
    run = (f"for a in {words}; do bash <<'E1'\nfor b in {words}; do bash <<'E2'\n"
           f"for c in {words}; do pip install jax==0.4.30; done\nE2\ndone\nE1\ndone\n")
    s = scan_text(f"FROM python:3.12\nRUN <<EOF\n{run}EOF\n")
    assert [(p.package, p.version) for p in s.pins] == [("jax", "0.4.30")]
    assert [w.message for w in s.warnings] == ["the shells this RUN starts in loops make more steps than the walk "
                                               "reads (20,000): pins in the rest are not read"]


def test_loops_nested_past_a_bound_are_read_as_any_other_loop() -> None:
    """Four loops of 20 words, nested in subshells, are 160,000 runs of the innermost body: read
    once per word, 5.7 s for a RUN of 399 bytes, and twenty times more per level. Past a bound
    of steps a loop is read as any other: its variable is the build's."""
    words = " ".join(f"w{i}" for i in range(20))
    run = "".join(f"for {v} in {words}; do ( " for v in "abcd") + "pip install jax==$b" + " ); done" * 4
    assert len(parse_script(Mapped.contiguous(run, 0)).steps) <= 10_000  # not 160,000 runs
    s = scan_with({}, run)  # the inner two read once per word; the outer two as any other loop
    assert s.pins == () and [w.message for w in s.warnings] == ["jax: version computed at build time (${b}), left alone"]


@pytest.mark.parametrize("script", [
    "bash <<EOF\npip install jax==$V numpyro==0.16.0\nEOF",  # the outer shell expands V
    "env bash -e <<'EOF'\npip install \"jax==$V\"\nEOF",  # quoted: the inner shell reads V from ENV
    "bash -s -- x <<EOF\nW=0.4.1; pip install jax==\\$W jaxlib==$V\nEOF",  # \\$: the inner shell's W
    "bash <<-EOF\n\tpip install jax==$V\n\tEOF",
])
def test_a_shell_that_reads_its_script_from_a_heredoc_is_read(script: str) -> None:
    """`RUN bash <<EOF` / `pip install jax==0.4.30` / `EOF` installs jax==0.4.30; the walk read
    `bash` and passed its heredoc over: --check passed on a stale pin. The heredoc is the
    script, as the shell passes it (expanded unless its delimiter is quoted)."""
    env = {"V": "0.4.30"}
    assert_read_as_bash(env, script)
    s = scan_text(f'FROM python:3.12\nENV V="0.4.30"\nRUN {script}\n')  # BuildKit's own heredoc
    assert [(p.package, p.version) for p in s.pins] == bash_pins(env, script) and not s.warnings


@pytest.mark.parametrize("script", [
    "apt-get update && bash <<EOF\npip install jaxlib==$V\nEOF",  # the grammar hangs it on the list
    "cat <<EOF | bash\npip install jax==$V\nEOF",
    'bash <<<"pip install jax==$V"',
    "bash <<\\EOF\npip install jax==$V\nEOF",  # quoted by the backslash: the inner shell reads V
    "apt-get update && bash <<EOF 2>&1\npip install jax==$V\nEOF",  # an output redirect after it
    "cat <<EOF | bash 2>/dev/null\npip install jax==$V\nEOF",
    "bash /dev/stdin <<EOF\npip install jax==$V\nEOF",
])
def test_the_other_ways_a_shell_reads_a_written_script_are_read(script: str) -> None:
    """Found by a trial: each installs a pin bash reads from standard input; the walk said
    nothing. (`<<\\EOF` BuildKit's heredoc did not know at all.)"""
    env = {"V": "0.4.30"}
    assert_read_as_bash(env, script.replace("apt-get update", "true"))
    s = scan_text(f'FROM python:3.12\nENV V="0.4.30"\nRUN {script}\n')
    assert [(p.package, p.version) for p in s.pins] == bash_pins(env, script.replace("apt-get update", "true"))


@pytest.mark.parametrize("script, said", [
    ("echo 'pip install jax==0.4.30' | bash", True),  # from a pipe: only the build knows
    ("cat <<EOF | grep -v '#' | bash\npip install jax==0.4.30\nEOF", True),
    ("bash <<EOF </dev/null\npip install jax==0.4.30\nEOF", False),  # reads /dev/null
    ("bash 3<<EOF\npip install jax==0.4.30\nEOF", False),  # another file descriptor
    ("xargs bash <<EOF\npip install jax==0.4.30\nEOF", False),  # xargs reads it, bash gets words
    ("curl -sSL https://example.invalid/install.sh | bash", False),  # nothing of pip's: no word
])
def test_a_script_a_shell_reads_from_elsewhere_is_said_or_not_read(script: str, said: bool) -> None:
    s = scan_text(f"FROM python:3.12\nRUN {script}\n")
    assert s.pins == ()
    assert [w.message for w in s.warnings] == (
        ["the script `bash` reads on its standard input is computed at build time: pins in it are not read"]
        if said else [])


@pytest.mark.parametrize("run", [
    'V=0.4.30; for p in "jax==$V" "jaxlib==$V"; do V=0.4.1; pip install "$p"; done',  # words read once
    "for v in 0.4.30 0.4.31; do pip install jax==$v; builtin break; done",
    "for v in 0.4.30 0.4.31; do pip install jax==$v; \\break; done",
    "for v in 0.4.30 0.4.31; do pip install jax==$v; 'exit' 0; done",
    "f() { exit 0; }; for v in 0.4.30 0.4.31; do pip install jax==$v; f; done",
    "for v in 0.4.30 0.4.31; do pip install jax==$v; eval break; done",
    "X=break; for v in 0.4.30 0.4.31; do pip install jax==$v; $X; done",  # a name only the build knows
])
def test_a_loop_the_walk_cannot_read_run_by_run_is_not(run: str) -> None:
    """Found by a trial: bash expands a loop's words once, before its body sets V (it installs
    jaxlib 0.4.30, the walk read 0.4.1); a run stopped by `builtin break`, `\\break`, a quoted
    `exit`, a function or `eval` was read to its end (jax 0.4.31, which bash never installs).
    Such a loop's variable is the build's: no pin bash does not install is read."""
    s = scan_with({}, run)
    bash = bash_pins({}, run + "; true" if not run.endswith("done") else run)
    assert all((p.package, p.version) in bash for p in s.pins), (pins(s), bash)
    assert s.warnings


@pytest.mark.parametrize("script, said", [
    ("bash script.sh <<EOF\npip install jax==0.4.30\nEOF", None),  # the heredoc is the script's input
    ("bash <<EOF\npip install jax==$(cat v)\nEOF",
     "the script `bash` reads on its standard input is computed at build time: pins in it are not read"),
])
def test_a_heredoc_that_is_not_a_shells_script_is_not_read(script: str, said: str | None) -> None:
    s = scan_text(f"FROM python:3.12\nRUN {script}\n")
    assert s.pins == () and [w.message for w in s.warnings] == ([said] if said else [])


@pytest.mark.parametrize("run, written", [
    ("time for p in jax; do pip install jax==0.4.30; done", "do pip install jax==0.4.30"),
    ("! for p in jax; do pip install jax==$V; done; true", "do pip install jax==${V}"),
    ("time for p in jax; do pip install $p==0.4.30; done", "do pip install ${p}==0.4.30"),
    ("time { pip install jax==0.4.30; }", "{ pip install jax==0.4.30"),
    ("time for p in jax==0.4.30 jaxlib==0.4.30; do pip install $p; done", "do pip install ${p}"),
    ("V=0.4.1; time for V in 0.4.30; do :; done; pip install jax==$V", None),
])
def test_a_loop_or_group_after_time_or_bang_is_said(run: str, written: str | None) -> None:
    """The grammar reads `time for p in jax; do pip install jax==0.4.30; done` as commands named
    `time`, `do` and `done`; bash installs jax==0.4.30, and the walk passed `do pip ...` over in
    silence. What runs there is not read (a loop's variable would be lost: `time for V in 0.4.30`
    then `$V`): it is said, and the loop's variable is the build's after it."""
    s = scan_with({"V": "0.4.30"}, run)
    assert ("jax", "0.4.30") in bash_pins({"V": "0.4.30"}, run)
    assert s.pins == ()
    assert [w.message for w in s.warnings] == [
        f"`{written}`: in a loop, branch or group after `time` or `!`, which is not read; a pin in it is left alone"
        if written else "jax: version computed at build time (${V}), left alone"]


def test_an_assignment_alone_on_its_line_in_a_loops_body_is_the_shells() -> None:
    """The grammar reads `A=0.4.1 B=1<newline>true` at a body's start as `true` given A and B;
    bash sets them in the shell, and the outer body's second run installs jax==0.4.1. A is the
    build's from the outer body's start."""
    script = "for p in $(echo a b); do\npip install jax==$A\nfor q in x; do\nA=0.4.1 B=1\ntrue\ndone\ndone\n"
    assert bash_pins({"A": "0.4.30"}, script) == [("jax", "0.4.30"), ("jax", "0.4.1")]
    s = scan_text(f'FROM python:3.12\nENV A="0.4.30"\nRUN <<EOF\n{script}EOF\n')
    assert s.pins == ()
    assert [w.message for w in s.warnings] == ["jax: version computed at build time (${A}), left alone"]


@pytest.mark.parametrize("run", [
    "for V in 0.4.1; do pip install jax==$V; done",
    "for V in 0.4.1; do :; done; pip install jax==$V",
    "for V in 0.4.1; do pip install jax==0.4.1; done; pip install jax==${V:-0.4.30}",
    "for V in 0.4.1 '0.4.2'; do pip install \"jax==$V\"; done",
    "for p in jax jaxlib; do pip install $p==0.4.30; done",
    'for p in jax "jaxlib"; do pip install "$p==$V"; done',
    "for p in jax jaxlib; do for q in x; do pip install $p==0.4.30; done; done",
    "for p in jax jaxlib; do ( for q in 0.4.1 0.4.2; do pip install $p==$q; done ); done",
    'for r in "jax==$V" "jaxlib==${V}"; do pip install "$r"; done',  # quoted: one word each, not split
    "for r in jax==0.4.30 numpy jaxlib==0.4.30; do pip install $r; done",
    "for v in 0.4.1 0.4.2; do V=$v; pip install jax==$V; done",  # what each run sets, it has
    "for p in jax jaxlib; do W=$p==$V; pip install $W; done",
])
def test_a_loop_over_plain_words_is_read_once_per_word(run: str) -> None:
    """bash runs `for p in jax jaxlib; do pip install $p==0.4.30; done`'s body once per word,
    with p set to it, and the last stays after the loop: it installs jax==0.4.30 and
    jaxlib==0.4.30. The tool took p for the build's and passed the pins over. A loop over plain
    words (no expansion, glob or brace) that runs where it stands, to the end of each run, is
    read that way: a version the loop's words give is moved there."""
    assert_read_as_bash({"V": "0.4.30"}, run)


@pytest.mark.parametrize("run", [
    "read V <<< 0.4.1; pip install jax==$V",
    "read -r -p '' A V <<< 'x 0.4.1'; pip install jax==$V",
    "read -a V <<< 0.4.1; pip install jax==$V",
    "printf -v V %s 0.4.1; pip install jax==$V",
    "printf -vV %s 0.4.1; pip install jax==$V",
    "getopts a V; pip install jax==$V",
    "mapfile -t V <<< 0.4.1; pip install jax==$V",
    "readarray V <<< 0.4.1; pip install jax==$V",
    "let V=5; pip install jax==$V",
    "let 'V = 7'; pip install jax==$V",
])
def test_a_variable_a_builtin_sets_is_the_builds(run: str) -> None:
    """`read V`, `printf -v V`, `getopts a V`, `mapfile V`, `let V=5` set V in the RUN's shell;
    the tool read the ENV value of V after them (jax==0.4.30, which bash does not pass). What
    they set is the build's to know: the pin is warned about and left alone."""
    s = scan_with({"V": "0.4.30"}, run)
    assert ("jax", "0.4.30") not in bash_pins({"V": "0.4.30"}, run)
    assert list(s.pins) == []
    assert [w.message for w in s.warnings] == ["jax: version computed at build time (${V}), left alone"]


def test_a_quoted_expansion_stays_one_word_as_bash_passes_it() -> None:
    with pytest.raises(UserError, match=r"cannot parse requirement 'jax==0\.4\.30 jaxlib==0\.4\.30'"):
        scan_text('FROM a\nENV PKGS="jax==0.4.30 jaxlib==0.4.30"\nRUN pip install "$PKGS"\n')


@pytest.mark.parametrize("run", [
    "( V=0.6.0; pip install jax==$V ) | tee /tmp/log",
    "false || ( V=0.6.0; pip install jax==$V )",
    "if true; then ( V=0.6.0; pip install jax==$V ); fi",
    "for i in 1; do ( V=0.6.0 && pip install jax==$V ); done",
], ids=["pipeline", "after-or", "branch", "loop"])
def test_a_subshell_where_it_may_not_run_still_sets_its_variables_for_itself(run: str) -> None:
    """A subshell inside a pipeline, after `||`, in a branch or a loop: its assignments were
    taken as uncertain (the walk up from them went past the subshell), so the pin was left alone
    as computed at build time and `--check` passed on a stale version. What it sets reaches only
    its own commands, which run after it or not at all."""
    said = subprocess.run(["bash", "-c", run.replace("pip install", "echo")], capture_output=True, text=True,
                          check=True).stdout.split()
    s = scan_text(f"FROM a\nRUN {run}\n")
    assert [(p.package, p.version) for p in s.pins] == [tuple(w.split("==")) for w in said], s.warnings
    assert not s.warnings
    assert "".join(s.text[o] for o in s.pins[0].chars.origin) == "0.6.0"  # what a sync moves


def test_a_variable_set_in_the_script_itself_is_still_read() -> None:
    s = scan_text("FROM a\nRUN set -e; V=0.6.0 && { pip install jax==$V; }\n")
    assert pins(s) == [(2, "jax", "0.6.0")]


@pytest.mark.parametrize("run", [
    'PKGS="$A $B"; pip install $PKGS',
    'bash -c "$PIP $A"',
    "bash -c 'pip install'\" \"'jax==0.4.30'",
    'PKGS="$A\t$B"; pip install $PKGS',
])
def test_the_blanks_of_a_double_quoted_string_are_its_characters(run: str) -> None:
    """`"$A $B"` is A's value, a blank, B's: the grammar gives the blank before `$B` (or before
    the closing quote of `" "`) to that token, and the tool dropped it, so PKGS was read as
    `jax==0.4.30jaxlib==0.4.30` (refused) and `bash -c "$PIP $A"` as `pip installjax==0.4.30`
    (passed over without a word, though bash installs jax==0.4.30)."""
    env = {"A": "jax==0.4.30", "B": "jaxlib==0.4.30", "PIP": "pip install"}
    assert_read_as_bash(env, run)


@pytest.mark.parametrize("run", [
    "pip install ${PKG}\\[cuda\\]==0.4.30",
    'pip install "$PKG"\\[cuda\\]==$V',
    "pip install $PKG\\[cuda\\]==$V numpyro==0.16.0",
])
def test_an_escape_after_an_expansion_stays_in_its_word(run: str) -> None:
    """`pip install ${PKG}\\[cuda\\]==0.4.30` passes pip one word, jax[cuda]==0.4.30; the grammar
    ends a word at a backslash after an expansion, and the tool read two (`jax` and
    `[cuda]==0.4.30`), passing the pin over without a word."""
    env = {"PKG": "jax", "V": "0.4.30"}
    s = scan_with(env, run)
    shown = ("pip() { printf '%s\\n' \"$@\"; }; ")
    said = subprocess.run(["bash", "-c", shown + run], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", **env}).stdout.split("\n")
    assert [(p.package + "".join(f"[{e}]" for e in sorted(p.extras)) + "==" + p.version) for p in s.pins] == \
        [w for w in said if "==" in w]
    assert_moves_only_versions(s)


@pytest.mark.parametrize("run", [
    'bash -c -- "pip install jax==$V"',
    'bash -c -e "pip install jax==$V"',
    'bash -c - "pip install jax==$V"',
    'bash -o pipefail -c "pip install jax==$V"',
])
def test_the_script_of_dash_c_is_the_first_word_after_the_options(run: str) -> None:
    """`bash -c -- "pip install jax==$V"` runs the script after `--` (the options go on after
    -c); the tool took the word right after -c, `--`, as the script and passed the pin over
    without a word."""
    s = scan_with({"V": "0.4.30"}, run)
    assert [(p.package, p.version) for p in s.pins] == bash_pins({"V": "0.4.30"}, run) == [("jax", "0.4.30")]
    assert not s.warnings


@pytest.mark.parametrize("run", [
    "bash -c 'pip install $1' _ jax==0.4.30",
    "bash -c 'pip install \"$@\"' bash jax==$V",
    "sh -c 'pip install $0' jax==0.4.30",
])
def test_a_pin_given_to_a_dash_c_script_as_an_argument_is_said_not_passed_over(run: str) -> None:
    """`bash -c 'pip install $1' _ jax==0.4.30` installs jax==0.4.30 (bash sets $1 to the word
    after the script's name); the tool read the script, found `pip install $1`, and said
    nothing: --check passed on a stale pin. The arguments are not followed: such a pin is warned
    about and left alone."""
    s = scan_with({"V": "0.4.30"}, run)
    assert ("jax", "0.4.30") in bash_pins({"V": "0.4.30"}, run if run.startswith("bash") else "ba" + run)
    assert s.pins == ()
    assert [(w.line, w.message) for w in s.warnings] == [
        (3, f"jax==0.4.30: an argument of `{run.split()[0]} -c` (its script's $0, $1...) is not read, left alone")]


@pytest.mark.parametrize("run, source", [
    ("$(echo pip) install jax==0.4.30", "$(echo pip)"),
    ("$(echo)pip install jax==$V", "$(echo)"),
    ("`echo pip` install 'jax==0.4.30' numpy", "`echo pip`"),
])
def test_a_pin_given_to_a_command_computed_at_build_time_is_said(run: str, source: str) -> None:
    """`$(echo pip) install jax==0.4.30` installs jax==0.4.30, as bash runs it; what runs is
    the build's to know, and the tool passed the command over without a word: --check passed
    on a stale pin. Its arguments are not read; a pin among them is warned about."""
    assert_said_and_left({"V": "0.4.30"}, run, 3,
                         f"jax==0.4.30: an argument of `{source}`, a command computed at build time, is not read, "
                         "left alone")


@pytest.mark.parametrize("run, said", [
    ("for p in $(echo jax jaxlib); do pip install $p==0.4.30; done",
     "${p}==0.4.30: a pin of a package named only when the image builds (${p}), left alone; write the name "
     "out if it is jax, jaxlib or numpyro"),
    ('for p in jax jaxlib; do pip install "$p==$V" || break; done',  # the ENV value V stays as it was
     "${p}==0.4.30: a pin of a package named only when the image builds (${p}), left alone; write the name "
     "out if it is jax, jaxlib or numpyro"),
    ("X=$(echo); pip install jax${X}==0.4.30",
     "jax$(echo)==0.4.30: a pin of a package named only when the image builds ($(echo)), left alone; write "
     "the name out if it is jax, jaxlib or numpyro"),
    ("for r in $(echo jax==0.4.30); do pip install $r; done",
     "${r}: a requirement known only when the image builds, left alone; a pin of jax, jaxlib or numpyro in it "
     "would not follow the release"),
    ("pip install jax{,lib}==0.4.30",
     "jax{,lib}==0.4.30: a brace expansion (bash makes jax jaxlib of it; sh, the default shell of RUN, passes "
     "it as written), left alone; write each pin out"),
    ("pip install {numpy,jax}==0.4.30",
     "{numpy,jax}==0.4.30: a brace expansion (bash makes numpy jax of it; sh, the default shell of RUN, "
     "passes it as written), left alone; write each pin out"),
], ids=["loop", "loop-extra-variable", "computed-in-name", "computed-whole", "braces", "braces-whole-name"])
def test_a_pin_whose_package_only_the_shell_names_is_said(run: str, said: str) -> None:
    """`for p in $(echo jax jaxlib); do pip install $p==0.4.30; done` and `pip install
    jax{,lib}==0.4.30` (bash) install jax==0.4.30; the tool saw a requirement it could not name,
    took it for a neighbour and said nothing: --check passed on a stale pin. Not followed; said."""
    assert_said_and_left({"V": "0.4.30"}, run, 3, said)


@pytest.mark.parametrize("run", [
    "for p in numpy scipy; do pip install $p; done",  # no version to keep
    "for p in numpy scipy; do pip install $p>=1.0; done",  # a range is not a pin
    "pip install numpy{,-stubs}==1.0 scipy",  # no kept package among the names
])
def test_a_requirement_the_shell_names_without_a_kept_pin_says_nothing(run: str) -> None:
    s = scan_with({}, run)
    assert s.pins == () and s.warnings == ()


@pytest.mark.parametrize("run, where", [
    ('A=(jax==0.4.30 numpy); pip install "${A[@]}"', "in an array, which is not read"),
    ("declare -a A=(numpy jax==0.4.30); pip install ${A[@]}", "in an array, which is not read"),
    ('eval "pip install jax==0.4.30"', "in the script `eval` runs, which is not read"),
    ("eval pip install jax==0.4.30", "in the script `eval` runs, which is not read"),
])
def test_a_pin_in_an_array_or_an_eval_is_said_not_passed_over(run: str, where: str) -> None:
    """bash installs jax==0.4.30 in each (an array's `${A[@]}`, the script `eval` runs); the
    walk reads neither, and passed the pin over without a word (found by the shell audit)."""
    assert_said_and_left({}, run, 2, f"jax==0.4.30: {where}, left alone")


def test_a_computed_command_without_pins_is_not_said() -> None:
    s = scan_with({}, "$(command -v apt-get) install -y git && $(echo pip) install numpy scipy")
    assert s.pins == () and s.warnings == ()


@pytest.mark.parametrize("run", [
    'pip install ${A:-"jax==0.4.28"}',
    "pip install ${A:-'jax==0.4.28'}",
    "pip install ${A:-jax==$V}",
    "pip install ${A:-jax==0.4.28$B}",
    "pip install ${V:+jax==$V}",
])
def test_a_default_the_tool_cannot_read_that_names_a_pin_is_said(run: str) -> None:
    """`pip install ${A:-"jax==0.4.28"}` installs jax==0.4.28; a default that is not plain
    characters (quoted, or with an expansion) is the build's to know, and the tool passed it
    over without a word (the word's text starts with `$`, no package name): --check passed on a
    stale pin. It is warned about and left alone."""
    s = scan_with({"V": "0.4.30"}, run)
    assert bash_pins({"V": "0.4.30"}, run) in ([("jax", "0.4.28")], [("jax", "0.4.30")])
    assert s.pins == ()
    assert [(w.line, w.message) for w in s.warnings] == [
        (3, f"jax: version computed at build time ({run.split()[-1]}), left alone")]


COPIED = 'FROM python:3.12\nENV V="0.4.30"\nCOPY <<EOF /opt/install.sh\npip install jax==$V numpyro==0.16.0\nEOF\n'


@pytest.mark.parametrize("run", [
    "bash /opt/install.sh",
    "sh -eu /opt/install.sh --quiet",
    "chmod +x /opt/install.sh && /opt/install.sh",
    "sudo -E /opt/install.sh",
    "cd /opt && ./install.sh",
    ". /opt/install.sh",
    "apt-get update && bash -c '/opt/install.sh'",
])
def test_a_script_a_copy_heredoc_wrote_is_read_where_a_run_runs_it(run: str) -> None:
    """`COPY <<EOF /opt/install.sh` then `RUN bash /opt/install.sh`: the script is this file's
    text, so its pins follow the release as a RUN's own do; they were passed over."""
    s = scan_text(f"{COPIED}RUN {run}\n")
    assert pins(s) == [(4, "jax", "0.4.30"), (4, "numpyro", "0.16.0")] and not s.warnings
    assert where(s, 0) == "0.4.30" and s.pins[0].chars.origin[0] == s.text.index("0.4.30")  # the ENV's
    assert where(s, 1) == "0.16.0" and s.text[s.pins[1].chars.origin[0] - 9:].startswith("numpyro==")


def test_a_copied_script_is_read_with_the_variables_it_starts_with() -> None:
    script = "FROM python:3.12\nCOPY <<'EOF' /s.sh\npip install jax==$W\nEOF\n"
    assert pins(scan_text(script + "RUN W=0.4.31 bash /s.sh\n")) == [(3, "jax", "0.4.31")]
    assert pins(scan_text(script + "RUN W=0.4.31 && . /s.sh\n")) == [(3, "jax", "0.4.31")]  # sourced: all
    with pytest.raises(UserError, match=r"Dockerfile:3: jax pin uses \$\{W\}, which no ENV or ARG defines"):
        scan_text(script + "RUN W=0.4.31 && bash /s.sh\n")  # not exported: the new shell has no W


@pytest.mark.parametrize("dockerfile", [
    COPIED,  # copied, never run
    COPIED + "RUN python3 /opt/install.sh\n",  # not run by a shell
    COPIED.replace("<<EOF /opt/install.sh\n", "<<EOF /opt/install.sh\n#!/usr/bin/env python3\n")
    + "RUN /opt/install.sh\n",  # its own interpreter is not a shell
    COPIED + "RUN bash /opt/other.sh && bash $(echo /opt/install.sh)\n",  # another file; a computed path
    "FROM python:3.12\nRUN bash /opt/install.sh\n" + COPIED.partition("\n")[2],  # run before the COPY
])
def test_a_copied_script_that_no_shell_runs_is_not_read(dockerfile: str) -> None:
    assert scan_text(dockerfile).pins == ()


def test_a_copied_script_run_with_nothing_else_on_its_line_is_read() -> None:
    s = scan_text(COPIED.replace("/opt/install.sh", "/usr/local/bin/setup") + 'RUN FOO=1 nice "/usr/local/bin/setup"\n')
    assert pins(s) == [(4, "jax", "0.4.30"), (4, "numpyro", "0.16.0")]


def test_an_unquoted_copy_heredoc_has_the_values_buildkit_put_in_when_it_copied() -> None:
    """BuildKit expands `${V}` in `COPY <<EOF` (not `<<'EOF'`): a later `V=...` does not count."""
    assert pins(scan_text(COPIED + "RUN V=0.4.10 bash /opt/install.sh\n"))[0] == (4, "jax", "0.4.30")
    quoted = COPIED.replace("COPY <<EOF", "COPY <<'EOF'")
    assert pins(scan_text(quoted + "RUN V=0.4.10 bash /opt/install.sh\n"))[0] == (4, "jax", "0.4.10")


@pytest.mark.parametrize("text, expected, carried_at", [
    # the ENV where the COPY is, not where the script runs (a sync rewrote line 6 and the image kept 0.4.30)
    ("ENV V=0.4.30\nCOPY <<EOF /i.sh\npip install jax==${V}\nEOF\nENV V=0.4.29\nRUN bash /i.sh\n",
     [(4, "jax", "0.4.30")], 2),
    # filled in before the script's own J= runs
    ("ENV J=0.4.30\nCOPY <<EOF /i.sh\nJ=0.4.31\npip install jax==$J\nEOF\nRUN bash /i.sh\n", [(5, "jax", "0.4.30")], 2),
    # inside quotes too (was exit 2: cannot parse requirement 'jax[cuda12]==${JAX_VERSION}')
    ("ARG JAX_VERSION=0.4.30\nCOPY <<EOF /i.sh\npip install 'jax[cuda12]==${JAX_VERSION}'\nEOF\nRUN bash /i.sh\n",
     [(4, "jax", "0.4.30")], 2),
    # a parent stage's ARG, run in a child stage (was exit 2: no ENV or ARG defines ${J})
    ("ARG J=0.4.30\nCOPY <<EOF /i.sh\npip install jax==${J}\nEOF\nFROM base\nRUN bash /i.sh\n",
     [(4, "jax", "0.4.30")], 2),
    # a backslash before a newline is dropped, the newline kept: `jax==` is a command of its own
    ("ENV V=0.4.30\nCOPY <<EOF /i.sh\npip install \\\n  jax==${V}\nEOF\nRUN bash /i.sh\n", [], 0),
    # `\\\\` is one backslash, then the ENV's value; bash reads `\\0` as 0
    ("ENV V=0.4.30\nCOPY <<EOF /i.sh\npip install jax==\\\\${V}\nEOF\nRUN bash /i.sh\n", [(4, "jax", "0.4.30")], 2),
    # appended to: both parts
    ("COPY <<EOF /x.sh\npip install jax==0.4.30\nEOF\nRUN cat <<'B' >> /x.sh\npip install numpyro==0.16.0\nB\n"
     "RUN bash /x.sh\n", [(3, "jax", "0.4.30"), (6, "numpyro", "0.16.0")], 3),
    # a name no ENV or ARG has at the COPY (one declared after it) is put in as nothing
    ("COPY <<EOF /i.sh\npip install jax==0.4.30${V}\nEOF\nARG V=1\nRUN bash /i.sh\n", [(3, "jax", "0.4.30")], 3),
])
def test_an_unquoted_copy_heredoc_is_read_as_buildkit_writes_it(text: str, expected: list[tuple[int, str, str]],
                                                                carried_at: int) -> None:
    """Found by a trial against BuildKit's lexer (quote processing off) and bash."""
    s = scan_text("FROM python:3.12 AS base\n" + text)
    assert pins(s) == expected and not s.warnings
    if expected:  # the line whose characters carry the first version: where a sync rewrites it
        assert s.text.count("\n", 0, s.pins[0].chars.origin[0]) + 1 == carried_at


def test_an_unquoted_copy_heredoc_with_an_arg_of_no_value_is_refused_as_a_run_is() -> None:
    with pytest.raises(UserError, match=r"jax pin uses \$\{V\}, which no ENV or ARG defines"):
        scan_text("FROM python:3.12\nARG V\nCOPY <<EOF /i.sh\npip install jax==${V}\nEOF\nRUN bash /i.sh\n")
    # the script's own variable, unescaped: BuildKit writes `jax==`, which pip refuses too
    with pytest.raises(UserError, match=r"Dockerfile:4: cannot parse requirement 'jax=='"):
        scan_text("FROM python:3.12\nCOPY <<EOF /i.sh\nJ=0.4.30\npip install jax==$J\nEOF\nRUN bash /i.sh\n")


def test_an_escaped_dollar_in_an_unquoted_copy_heredoc_is_the_scripts_own_variable() -> None:
    """BuildKit writes `\\${V}` as `${V}`, for the script's shell to expand: the script's own
    `V=` carries the version (this was exit 2, "cannot parse requirement 'jax==${V}'")."""
    text = ('FROM python:3.12\nARG JAXLIB=0.4.30\nCOPY <<EOF /opt/install.sh\nV=0.4.30\n'
            'pip install numpyro==0.16.0 jax==\\${V} jaxlib==${JAXLIB}\nEOF\nRUN bash /opt/install.sh\n')
    s = scan_text(text)
    assert pins(s) == [(5, "numpyro", "0.16.0"), (5, "jax", "0.4.30"), (5, "jaxlib", "0.4.30")] and not s.warnings
    assert [s.text[p.chars.origin[0] - 2:p.chars.origin[0]] for p in s.pins[1:]] == ["V=", "B="]


@pytest.mark.parametrize("text, expected, carried_by", [
    # written and run in one RUN
    ("RUN cat <<EOF > /x.sh && bash /x.sh\npip install jax==0.4.30 numpyro==0.16.0\nEOF\n",
     [(3, "jax", "0.4.30"), (3, "numpyro", "0.16.0")], "0.4.30"),
    # the shell expands an unquoted heredoc as it writes it: the ENV's value is the pin
    ('ENV V=0.4.30\nRUN cat > /x.sh <<EOF\npip install jax==$V\nEOF\nRUN sh /x.sh\n', [(4, "jax", "0.4.30")],
     "V=0.4.30"),
    # a quoted one is written as it is: the running shell's V
    ("RUN cat > /x.sh <<'EOF'\npip install jax==$V\nEOF\nRUN V=0.4.31 sh /x.sh\n", [(3, "jax", "0.4.31")],
     "V=0.4.31 sh"),
    # appended after what the file held
    ("RUN cat <<'A' > /x.sh\nJ=0.4.30\nA\nRUN cat <<'B' >> /x.sh\npip install jax==$J\nB\nRUN bash /x.sh\n",
     [(6, "jax", "0.4.30")], "J=0.4.30"),
    ("RUN tee /x.sh /y.sh >/dev/null <<EOF\npip install jax==0.4.30\nEOF\nRUN bash /y.sh\n", [(3, "jax", "0.4.30")],
     "0.4.30"),
    ("WORKDIR /app\nRUN cat <<EOF > x.sh && chmod +x x.sh && ./x.sh\npip install jax==0.4.30\nEOF\n",
     [(4, "jax", "0.4.30")], "0.4.30"),
    ("RUN cat <<EOF > /x.sh\npip install jax==0.4.30\nEOF\nFROM base\nRUN bash /x.sh\n", [(3, "jax", "0.4.30")],
     "0.4.30"),  # in a stage built on it
    # not run, run before it is written, or its output sent elsewhere
    ("RUN cat <<EOF > /x.sh\npip install jax==0.4.30\nEOF\n", [], ""),
    ("RUN bash /x.sh; cat <<EOF > /x.sh\npip install jax==0.4.30\nEOF\n", [], ""),
    ("RUN cat <<EOF > /x.sh >&2\npip install jax==0.4.30\nEOF\nRUN bash /x.sh\n", [], ""),
])
def test_a_script_a_run_writes_from_a_heredoc_is_read_where_it_runs(text: str, expected: list[tuple[int, str, str]],
                                                                     carried_by: str) -> None:
    """`cat <<EOF > /x.sh` then `bash /x.sh`: the pins were not read and nothing was said."""
    s = scan_text("FROM python:3.12 AS base\n" + text)
    assert pins(s) == expected and not s.warnings
    if expected:  # the line whose characters carry the version: where a sync rewrites it
        assert carried_by in s.text.splitlines()[s.text.count("\n", 0, s.pins[0].chars.origin[0])]


@pytest.mark.parametrize("text, expected", [
    ("RUN cat > /usr/local/bin/setup-jax <<'EOF' && chmod +x /usr/local/bin/setup-jax\n#!/bin/sh\n"
     "pip install jax==0.4.30\nEOF\nRUN setup-jax\n", [(4, "jax", "0.4.30")]),
    ("COPY --chmod=755 <<EOF /usr/local/bin/setup.sh\npip install jax==0.4.30\nEOF\nRUN setup.sh\n",
     [(3, "jax", "0.4.30")]),
    # an ENV's folder of PATH, and a wrapper before the name
    ("ENV PATH=/opt/tools:$PATH\nCOPY <<EOF /opt/tools/setup\npip install jax==0.4.30\nEOF\nRUN env A=1 setup\n",
     [(4, "jax", "0.4.30")]),
    ("COPY <<EOF /opt/setup\npip install jax==0.4.30\nEOF\nRUN setup\n", []),  # /opt is not on PATH
])
def test_a_script_put_in_a_folder_of_path_is_read_where_a_run_names_it(
        text: str, expected: list[tuple[int, str, str]]) -> None:
    """Found by a trial against bash: `RUN setup-jax` ran the script and nothing was read or said."""
    s = scan_text("FROM python:3.12\n" + text)
    assert pins(s) == expected and not s.warnings


@pytest.mark.parametrize("run, expected, said", [
    ("tee /x.sh <<'EOF' | sh", [(3, "jax", "0.4.30")], []),  # tee passes it on, as cat does
    ("sed 's/@V@/0.4.30/' <<'EOF' | sh",
     [], ["the script `sh` reads on its standard input is computed at build time: pins in it are not read"]),
    ("grep -v '^#' <<'EOF' | bash",
     [], ["the script `bash` reads on its standard input is computed at build time: pins in it are not read"]),
    ("sed 's/x/y/' <<'EOF' | sort", [], []),  # no shell reads it
    ("tee /x.sh >/dev/null <<'EOF' | sh",  # tee's output goes to the file: not read as sh's script
     [], ["the script `sh` reads on its standard input is computed at build time: pins in it are not read"]),
])
def test_a_heredoc_piped_into_a_shell_is_read_or_said(run: str, expected: list[tuple[int, str, str]],
                                                      said: list[str]) -> None:
    """Found by a trial against bash: `sed ... <<EOF | sh` ran the pins and nothing was said."""
    s = scan_text(f"FROM python:3.12\nRUN {run}\npip install jax=={'@V@' if 'sed' in run else '0.4.30'}\nEOF\n")
    assert pins(s) == expected and [w.message for w in s.warnings] == said


@pytest.mark.parametrize("written", ["WORKDIR /app\nRUN cat <<EOF > install.sh\n", "COPY <<EOF /app/install.sh\n"])
def test_a_folder_copied_over_a_script_the_build_wrote_leaves_it_read(written: str) -> None:
    """`COPY . /app` puts install.sh there only if the context has one: the script written
    before is read too, and the context's is kept for its pins to be said (a trial found the
    written one's pins unread and unsaid)."""
    s = scan_text(f"FROM python:3.12\n{written}pip install jax==0.4.30\nEOF\nCOPY . /app\nRUN bash /app/install.sh\n")
    assert [p[1:] for p in pins(s)] == [("jax", "0.4.30")] and not s.warnings
    assert [(r.path, r.source) for r in s.stages[0].scripts] == [("/app/install.sh", "install.sh")]


def test_a_heredoc_appended_to_a_file_the_walk_does_not_know_leaves_its_variables_to_the_build() -> None:
    """What the file held may set them (`printf 'J=0.4.30' > /x.sh` first): said, not exit 2."""
    s = scan_text("FROM python:3.12\nRUN printf 'J=0.4.30\\n' > /x.sh\nRUN cat <<'EOF' >> /x.sh\n"
                  'pip install "jax==$J" numpyro==0.16.0\nEOF\nRUN bash /x.sh\n')
    assert pins(s) == [(4, "numpyro", "0.16.0")]
    assert [w.message for w in s.warnings] == ["jax: version computed at build time (${J}), left alone"]


@pytest.mark.parametrize("run, expected, said", [
    ("RUN cat <<'EOF' > ~/x.sh", [], ["jax: pinned in a file this RUN writes where only the build knows, which is "
                                      "not read; left alone"]),  # ~ is the build's
    ("RUN tee -- /x.sh <<'EOF'", [(3, "jax", "0.4.30")], []),
    ("RUN tee -i /y.sh > /x.sh <<'EOF'", [(3, "jax", "0.4.30")], []),  # its output is the file too
    ("RUN sed 's/@V@/0.4.30/' <<'EOF' > /x.sh", [], ["jax: pinned in a file `sed` writes from a heredoc, which "
                                                      "is not read; left alone"]),
])
def test_how_a_heredoc_reaches_a_file_a_later_run_runs(run: str, expected: list[tuple[int, str, str]],
                                                       said: list[str]) -> None:
    """From a second trial against bash: each of these was read wrongly or passed over in silence."""
    s = scan_text(f"FROM python:3.12\n{run}\npip install jax=={'@V@' if 'sed' in run else '0.4.30'}\nEOF\n"
                  "RUN bash /x.sh\n")
    assert pins(s) == expected and [w.message for w in s.warnings] == said


@pytest.mark.parametrize("run", ["env VV=0.4.31 bash /x.sh", "chmod +x /x.sh && env VV=0.4.31 /x.sh"])
def test_a_script_gets_the_variables_env_gives_it(run: str) -> None:
    """Was exit 2 (no ENV or ARG defines ${VV}): `env NAME=value` gives them to what it runs."""
    s = scan_text(f"FROM python:3.12\nCOPY <<'EOF' /x.sh\npip install jax==$VV\nEOF\nRUN {run}\n")
    assert pins(s) == [(3, "jax", "0.4.31")] and where(s, 0) == "0.4.31" and not s.warnings


@pytest.mark.parametrize("run, expected", [
    ("cp /x.sh /y.sh && bash /y.sh", [(3, "jax", "0.4.30")]),
    ("mv /x.sh /usr/local/bin/setup-jax && setup-jax", [(3, "jax", "0.4.30")]),
    ("install -m 755 /x.sh /usr/local/bin/j && j", [(3, "jax", "0.4.30")]),
    ("cp /x.sh /opt/ && bash /opt/x.sh", [(3, "jax", "0.4.30")]),  # into a folder
    ("cp -t /opt /x.sh && bash /opt/x.sh", []),  # the folder first: not followed
])
def test_a_placed_script_copied_or_moved_is_read_where_it_runs(run: str, expected: list[tuple[int, str, str]]) -> None:
    s = scan_text(f"FROM python:3.12\nCOPY <<'EOF' /x.sh\npip install jax==0.4.30\nEOF\nRUN {run}\n")
    assert pins(s) == expected and not s.warnings


@pytest.mark.parametrize("run, expected", [
    ("bash < /x.sh", [(3, "jax", "0.4.30")]),
    ("sh -e < /x.sh", [(3, "jax", "0.4.30")]),
    ("bash /dev/stdin < /x.sh", [(3, "jax", "0.4.30")]),
    ("cat < /x.sh", []),  # no shell reads it
])
def test_a_placed_script_given_to_a_shell_on_its_standard_input_is_read(
        run: str, expected: list[tuple[int, str, str]]) -> None:
    s = scan_text(f"FROM python:3.12\nCOPY <<'EOF' /x.sh\npip install jax==0.4.30\nEOF\nRUN {run}\n")
    assert pins(s) == expected and not s.warnings


def test_a_context_script_copied_from_its_folder_is_kept_for_its_pins_at_the_new_path() -> None:
    s = scan_text("FROM python:3.12\nCOPY scripts/ /opt/scripts/\nRUN cp /opt/scripts/install.sh /y.sh && bash /y.sh\n")
    assert [(r.path, r.source) for r in s.stages[0].scripts] == [("/y.sh", "scripts/install.sh")]


def test_a_script_a_run_writes_from_values_only_the_build_knows_is_said() -> None:
    s = scan_text("FROM python:3.12\nRUN cat <<EOF > /x.sh\npip install jax==$(cat /v)\nEOF\nRUN bash /x.sh\n")
    assert pins(s) == [] and [w.message for w in s.warnings] == [
        "jax: pinned in a file this RUN writes from values only the build knows, which is not read; left alone"]


def test_what_a_sourced_script_sets_is_the_builds_after_it() -> None:
    """A script sourced before a pin sets the pin's variable: said, not an error (it was exit 2)."""
    s = scan_text("FROM python:3.12\nCOPY <<'EOF' /v.sh\nJAX=0.4.13\nEOF\n"
                  "COPY <<'EOF' /i.sh\n. /v.sh\npip install jax==$JAX numpyro==0.16.0\nEOF\nRUN bash /i.sh\n")
    assert pins(s) == [(7, "numpyro", "0.16.0")]
    assert [w.message for w in s.warnings] == ["jax: version computed at build time (${JAX}), left alone"]


def test_a_copied_script_that_runs_itself_is_read_once() -> None:
    s = scan_text("FROM python:3.12\nCOPY <<EOF /a.sh\npip install jax==0.4.30\nbash /a.sh\nEOF\nRUN bash /a.sh\n")
    assert pins(s) == [(3, "jax", "0.4.30")] and not s.warnings
