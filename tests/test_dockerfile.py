"""The Dockerfile reader: instructions, spans, continuations, heredocs, stages."""
from __future__ import annotations

import pytest

from release_hook.dockerfile import assignments, parse, split_words
from release_hook.errors import UserError
from release_hook.spans import Lit, Var, word_text


def keywords(text: str) -> list[tuple[str, int, int]]:
    return [(i.keyword, i.line, i.end_line) for i in parse(text, "Dockerfile").instructions]


def test_continuations_skip_comment_and_blank_lines() -> None:
    text = "FROM a\nRUN pip install \\\n# comment\n\n    jax==1 \\\n\tjaxlib==1\nCMD x\n"
    df = parse(text, "Dockerfile")
    assert keywords(text) == [("FROM", 1, 1), ("RUN", 2, 6), ("CMD", 7, 7)]
    run = df.instructions[1]
    assert run.args.text == "pip install     jax==1 \tjaxlib==1"
    # every character of the joined text points back at the same character of the file
    assert all(text[o] == c for c, o in zip(run.args.text, run.args.origin))


def test_crlf_bom_and_missing_final_newline() -> None:
    text = "\ufeffFROM a\r\nRUN pip install \\\r\n  jax==1"
    df = parse(text, "Dockerfile")
    run = df.instructions[1]
    assert run.args.text == "pip install   jax==1"
    assert all(text[o] == c for c, o in zip(run.args.text, run.args.origin))


def test_escape_directive_backtick() -> None:
    text = "# escape=`\nFROM a\nRUN pip install `\n  jax==1 C:\\path\\\nCMD x\n"
    assert keywords(text) == [("FROM", 2, 2), ("RUN", 3, 4), ("CMD", 5, 5)]


def test_directive_only_at_the_top() -> None:
    text = "FROM a\n# escape=`\nRUN a `\nRUN b\n"
    assert keywords(text) == [("FROM", 1, 1), ("RUN", 3, 3), ("RUN", 4, 4)]
    # an unknown directive is a comment, and a comment ends them (BuildKit's parser): the escape stays `\`
    text = "# foo=1\n# escape=`\n# escape=`\nFROM a\nRUN a \\\n  b\n"
    assert keywords(text) == [("FROM", 4, 4), ("RUN", 5, 6)]


def test_trailing_escape_at_end_of_file_is_an_error() -> None:
    with pytest.raises(UserError, match="continuation") as e:
        parse("FROM a\nRUN pip install \\\n  jax==1 \\\n", "Dockerfile")
    assert str(e.value).startswith("Dockerfile:2:")


def test_only_arg_may_come_before_the_first_from() -> None:
    # BuildKit refuses such a file; it once passed a --check with its pins never read
    with pytest.raises(UserError, match=r"^Dockerfile:2: RUN before the first FROM: a Dockerfile starts its first stage "
                                        r"with FROM \(only ARG may come before it\)$") as e:
        parse("ARG V=1\nRUN pip install numpyro==0.13.2\nFROM a\n", "Dockerfile")
    assert e.value.line == 2
    assert parse("# syntax=docker/dockerfile:1\nARG V=1\n\nFROM a\n", "Dockerfile").global_args


def test_heredocs_are_bodies_not_instructions() -> None:
    text = ("FROM a\nRUN <<EOT bash\nFROM b\nRUN x\nEOT\nRUN <<-'X' <<Y\n\tone\n\tX\ntwo\nY\n"
            "COPY <<EOF /f\nENV A=1\nEOF\nCMD z\n")
    df = parse(text, "Dockerfile")
    assert keywords(text) == [("FROM", 1, 1), ("RUN", 2, 5), ("RUN", 6, 10), ("COPY", 11, 13),
                              ("CMD", 14, 14)]
    assert len(df.stages) == 1
    first, second = df.instructions[2].heredocs
    assert (first.name, first.strip_tabs, first.body.text) == ("X", True, "\tone\n")
    assert (second.name, second.body.text) == ("Y", "two\n")


def test_unterminated_heredoc_is_an_error() -> None:
    with pytest.raises(UserError, match="unterminated heredoc <<EOT") as e:
        parse("FROM a\nRUN <<EOT\npip install x\n", "Dockerfile")
    assert str(e.value).startswith("Dockerfile:2:")


def test_here_string_is_not_a_heredoc() -> None:
    assert keywords("FROM a\nRUN cat <<< hello\nCMD x\n") == [("FROM", 1, 1), ("RUN", 2, 2),
                                                              ("CMD", 3, 3)]


def test_stages_global_args_and_names() -> None:
    text = "ARG BASE=a\nFROM --platform=linux/amd64 ${BASE} AS Build\nRUN x\nFROM build\nRUN y\n"
    df = parse(text, "Dockerfile")
    assert [i.keyword for i in df.global_args] == ["ARG"]
    assert [(s.name, word_text(s.image)) for s in df.stages] == [("build", "${BASE}"), (None, "build")]
    assert [i.keyword for i in df.stages[0].instructions] == ["RUN"]


def test_env_and_arg_forms() -> None:
    df = parse('FROM a\nENV A=1 B="two words" C=\'$lit\' D=${A}x\nENV LEGACY a value\n'
               "ARG E\nARG F=3 G\n", "Dockerfile")
    env, legacy, arg1, arg2 = df.stages[0].instructions
    got = {a.name: a.value for a in assignments(env, "\\")}
    assert word_text(got["B"]) == "two words"
    assert got["C"] == (Lit("$lit", got["C"][0].origin),)  # type: ignore[union-attr]
    assert isinstance(got["D"][0], Var) and got["D"][0].name == "A"  # type: ignore[index]
    assert [(a.name, word_text(a.value)) for a in assignments(legacy, "\\")] == [("LEGACY", "a value")]
    assert [(a.name, a.value) for a in assignments(arg1, "\\")] == [("E", None)]
    assert [a.name for a in assignments(arg2, "\\")] == ["F", "G"]


def test_split_words_keeps_origins() -> None:
    df = parse('FROM a\nENV X="1.2" Y=3\n', "Dockerfile")
    env = df.instructions[1]
    (x, y) = split_words(env.args)
    lit = x[0]
    assert isinstance(lit, Lit) and lit.text == 'X=1.2'
    assert df.text[lit.origin[2]:lit.origin[-1] + 1] == "1.2"


def test_empty_file_and_only_comments() -> None:
    assert parse("", "Dockerfile").instructions == ()
    assert parse("# just a comment\n\n", "Dockerfile").stages == ()
