"""Which requirement arguments are kept pins: `jax[cuda]==0.4.13`, `"jaxlib==${V}+cuda${C}"`,
a source reference of the released package. Everything else is a neighbour: ranges of kept
packages are listed (not changed), computed versions warned about, URLs and paths passed on."""
from __future__ import annotations

import re

from release_hook.names import normalize as canonicalize_name

from release_hook.found import Chars, Pin
from release_hook.names import is_version
from release_hook.spans import Computed, Lit, Piece, Word
from release_hook.walk.findings import Findings
from release_hook.walk.sources import jaxlib_wheel_url, source_url

PIN_OPERATORS = ("===", "==", "~=")
NAME_PREFIX = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# The common `name[extra]==1.2.3` needs no full PEP 508 parse; anything else gets one.
_SIMPLE_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[([A-Za-z0-9._,-]*)\])?(===|==|~=)"
                         r"([0-9][A-Za-z0-9.+!_-]*)")
# a pin's name and operator, whatever follows them: inside what only the build knows, or a
# version another command puts in (`sed`)
NAMED_PIN = re.compile(r"(?<![\w.])([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:===|==|~=)")
# packaging marks where a requirement stops parsing with a caret under a copy of it.
_CARET = re.compile(r"^( *)(~*)\^$", re.MULTILINE)

Addresses = tuple[tuple[str, Chars], ...]


def kept_name(found: Findings, text: str) -> str | None:
    """The canonical name a requirement starts with, when it is a kept package."""
    m = NAME_PREFIX.match(text)
    if m and canonicalize_name(m.group(1)) in found.kept:
        rest = text[m.end():].lstrip()
        if not rest or rest[0] in "[=~<>!@;,( " or rest.startswith("${"):
            return canonicalize_name(m.group(1))
    return None


def kept_pin(found: Findings, chars: Chars, line: int, stage: int, image: str,
             addresses: Addresses) -> Pin | None:
    """The kept pin this requirement argument is (as kept by `found`), or None: a neighbour."""
    text = chars.text
    if "://" in text or text.startswith(("git+", "hg+", "svn+", "bzr+")):
        if not jaxlib_wheel_url(found, text, line):
            return source_url(found, chars, line, stage, image)
        return None
    if text.startswith((".", "/", "~")) or text.endswith((".whl", ".tar.gz", ".zip")):
        return None
    name = kept_name(found, text)
    if name is None:
        said = _computed_pin(found, chars) or _unread_name(found, chars, line)
        if said is not None:
            found.warn(line, said)
        return None
    if chars.undefined:
        raise found.error(f"{name} pin uses ${{{chars.undefined[0]}}}, which no ENV or ARG "
                          "defines for this stage", line)
    if chars.computed:
        found.warn(line, f"{name}: version computed at build time ({chars.computed[0]}), left alone")
        return None
    simple = _SIMPLE_PIN.fullmatch(text)
    if simple is not None and is_version(simple.group(4)):
        extras = frozenset(e.strip().lower() for e in (simple.group(2) or "").split(",") if e.strip())
        return found.add(Pin(found.path, line, name, "requirement", simple.group(3), simple.group(4),
                             chars[simple.start(4):simple.end(4)], text, extras, stage, image, addresses))
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        raise _unparsable(found, chars, line, str(e)) from None
    if req.url:
        if not jaxlib_wheel_url(found, text, line):
            return source_url(found, chars, line, stage, image)
        return None
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in PIN_OPERATORS and not specs[0].version.endswith("*"):
        spec = specs[0]
        m = re.search(re.escape(spec.operator) + r"\s*(" + re.escape(spec.version) + r")", text)
        assert m is not None
        return found.add(Pin(found.path, line, name, "requirement", spec.operator, spec.version,
                             chars[m.start(1):m.end(1)], text, frozenset(req.extras), stage, image,
                             addresses))
    what = f"{text!r} is not pinned" if not specs else f"{text!r} is a range"
    found.mention(line, f"{what}: listed, not changed")
    return None


def _computed_pin(found: Findings, chars: Chars) -> str | None:
    """A kept pin inside what the build computes: `${A:-"jax==0.4.28"}`, `${A:-jax==$V}`."""
    for source in chars.computed:
        named = next((n for n in map(canonicalize_name, NAMED_PIN.findall(source)) if n in found.kept), None)
        if named is not None:
            return f"{named}: version computed at build time ({source}), left alone"
    return None


def _unread_name(found: Findings, chars: Chars, line: int) -> str | None:
    """What to say of a requirement whose package the tool cannot name, though it may be a kept
    one: a pin whose name the build computes (`for p in $(cat names); do pip install
    $p==0.4.30; done`, `jax${X}==0.4.30`), a requirement computed whole (`pip install "$r"`,
    `$(cat reqs)`), or a brace expansion (`jax{,lib}==0.4.30`). Its version would otherwise stay
    as written, unsaid."""
    text = chars.text
    kept = f"jax, jaxlib or {found.package}"
    rest = text
    # a variable no ENV, ARG or assignment the walk saw defines is the build's too here: the
    # grammar's misreading of `time for p in ...` leaves p so
    for source in (*chars.computed, *("${" + name + "}" for name in chars.undefined)):
        at = text.find(source)
        if at >= 0 and _NAME_CHARS.fullmatch(text, 0, at) and _PIN_AFTER_NAME.match(text, at + len(source)):
            return (f"{text}: a pin of a package named only when the image builds ({source}), left alone; "
                    f"write the name out if it is {kept}")
        rest = rest.replace(source, "", 1)
    if chars.computed and not rest.strip() and not found.said_at(line):  # the fallback: say why once
        return (f"{text}: a requirement known only when the image builds, left alone; a pin of {kept} "
                "in it would not follow the release")
    head = _NAME_PART.match(text)
    braced = _BRACES.fullmatch(head.group(0)) if head else None
    if head is None or braced is None or not _PIN_AFTER_NAME.match(text, head.end()):
        return None
    names = [braced.group(1) + alternative + braced.group(3) for alternative in braced.group(2).split(",")]
    if len(names) < 2 or found.kept.isdisjoint(map(canonicalize_name, names)):
        return None
    return (f"{text}: a brace expansion (bash makes {' '.join(names)} of it; sh, the default shell of "
            "RUN, passes it as written), left alone; write each pin out")


# a requirement's name as written, up to its extras, operator, marker or URL
_NAME_PART = re.compile(r"[^\s\[=~<>!;@]+")
_NAME_CHARS = re.compile(r"[A-Za-z0-9._-]*")
_BRACES = re.compile(r"([A-Za-z0-9._-]*)\{([A-Za-z0-9._,-]*)\}([A-Za-z0-9._-]*)")
# the rest of a name, extras and a pin's operator
_PIN_AFTER_NAME = re.compile(r"[A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*(?:===|==|~=)")


def _unparsable(found: Findings, chars: Chars, line: int, error: str) -> Exception:
    """Reported at the line that holds the bad character: an ARG's value, not the RUN using it."""
    reason = error.splitlines()[0]
    caret = _CARET.search(error)
    at = len(caret.group(1)) - 4 + len(caret.group(2)) if caret else -1  # the copy is indented by 4
    where = found.line_of_chars(chars, at, line) if at >= 0 else line
    used = f" (used at line {line})" if where != line else ""
    return found.error(f"cannot parse requirement {chars.text!r}{used}: {reason}", where)


def xargs_computed(word: Word, replace: str) -> Word:
    """The pieces of a word where xargs -I puts each input line, marked as build-time values."""
    merged: list[Piece] = []
    for p in word:  # the shell grammar may split `{}` into `{` and `}`
        if isinstance(p, Lit) and merged and isinstance(merged[-1], Lit):
            merged[-1] = Lit(merged[-1].text + p.text, merged[-1].origin + p.origin)
        else:
            merged.append(p)
    out: list[Piece] = []
    for p in merged:
        if isinstance(p, Lit) and replace in p.text:
            head, _, tail = p.text.partition(replace)
            if head:
                out.append(Lit(head, p.origin[:len(head)]))
            out.append(Computed(f"xargs -I{replace}", p.origin[len(head)]))
            if tail:
                out.extend(xargs_computed((Lit(tail, p.origin[len(head) + len(replace):]),), replace))
        else:
            out.append(p)
    return tuple(out)


