"""The plan as a reader wants it: per Dockerfile, each pin, where it goes and what decided it;
as text for people (`--explain`, `--dry-run`) or as one JSON document for CI and bots."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any, Mapping, Sequence, TextIO

from release_hook import __version__
from release_hook.config import Config
from release_hook.errors import UserError
from release_hook.names import normalize as canonicalize_name
from release_hook.found import Note, Pin, Scan
from release_hook.plan import FilePlan
from release_hook.records import NamedTuple
from release_hook.request import Request
from release_hook.resolve.targets import PLUGINS, Because, Proof, Resolution, Targets
from release_hook.textlines import line_of

# Version of the JSON document's shape. Fields are only ever added within one version; a field
# removed, renamed or given another meaning raises it (see README, "Machine-readable output").
SCHEMA_VERSION = 1


class Output(NamedTuple):
    """How a run reports: text or JSON, quiet or not, and where the release's version came from."""

    format: str = "text"  # "text" or "json" (for --check and --dry-run)
    quiet: bool = False  # errors only
    version_from: str = "--version"  # --version, an environment variable, or FILE current_version


def why(pin: Pin, targets: Targets | None, version_from: str = "--version") -> str:
    """What decided a pin's target, in a few words."""
    if targets is None:
        return ""
    if pin.package == targets.package:
        return version_from if pin.kind == "requirement" else f"{version_from} (git tag)"
    if pin.package in targets.unresolved:
        return f"not decided: {targets.unresolved[pin.package]}"
    need = targets.requirements.get(pin.package)
    if need and targets.requirements_from:
        need += f" (from {targets.requirements_from})"
    because = targets.why.get(pin.package)
    said = _because(pin.package, because, need) if because else ("follows jaxlib" if pin.package in PLUGINS else "")
    reason = "; ".join(x for x in (f"release needs {need}" if need else "", said) if x)
    build = targets.why.get(f"build for {pin.image}") if pin.package == "jaxlib" else None
    if build is not None and build.found_in != "plugin" and build.tag and "+" not in (targets.for_pin(pin) or ""):
        reason += "; no tag: this pip command does not read jax's CUDA page"
    elif build is not None:
        reason += "; build " + ("no tag: CUDA comes from the plugin packages" if build.found_in == "plugin"
                                else f"+{build.tag} for {build.cuda} ({build.found_in})")
    if because is not None and because.cached and because.kind != "given":  # --pin decides it either way
        reason += " (decided earlier, cached)"
    return reason


def _because(package: str, b: Because, need: str | None) -> str:
    if b.kind == "given":
        return "--pin"
    if b.kind == "follows":
        return f"follows jaxlib {b.paired_with}" + (f"; {b.requires}" if b.requires else "")
    on = ", ".join(b.images)
    dated = f", published by {b.as_of}" if b.as_of else ""
    if package == "jaxlib":
        text = (f"{b.policy} pair that jax accepts (declared bounds, not newer than jax), with a build "
                f"for every image on {on}{dated}" + (f", with jax {b.paired_with}" if b.paired_with else ""))
        if b.skipped:  # the rules passed over jaxlibs for this jax: the nearest, and why
            side = "newer" if b.policy == "latest" else "lower"
            nearest = "" if b.skipped == 1 else "the nearest, "
            text += f"; {b.skipped} {side} jaxlib{'s' if b.skipped > 1 else ''} passed over ({nearest}{b.passed})"
    else:
        wanted = need.split(" (from ")[0] if need else package
        text = f"{b.policy} of {wanted} that installs on {on}{dated}, {b.listed_by or 'index'}"
        text += ("; the resolver installs it with the whole install" if b.proof == "installs"
                 else f"; the rules decided ({b.proof_why})")
        if b.skipped:
            side = "newer" if b.policy == "latest" else "lower"
            text += f"; {b.skipped} {side} candidate{'s' if b.skipped > 1 else ''} skipped"
    return text


def explain(plans: Sequence[FilePlan], resolution: Resolution, out: TextIO,
            version_from: str = "--version", config: Config | None = None,
            request: Request | None = None, verdicts: Mapping[str, Sequence[str]] = {}) -> None:
    """`verdicts`: per path, the real resolver's verdict on each changed stage (resolve/proof.py)."""
    from release_hook.resolve.cuda import image_cuda

    if resolution.as_of is not None:
        out.write(f"latest as of {resolution.as_of.isoformat(timespec='seconds')}\n")
    elif any(t.policy == "latest" for t in resolution.groups.values()):
        now = datetime.datetime.now(datetime.timezone.utc)
        out.write(f"latest as of now ({now.isoformat(timespec='seconds')}; --as-of to judge another moment)\n")
    for p in plans:
        first = resolution.targets(p.path) if p.scan.pins else None
        policy = f" (policy: {first.policy})" if first is not None and first.policy else ""
        out.write(f"{p.path}{policy}\n")
        if config is not None and request is not None:
            _images(p, config, request, out)
        else:
            for index, image in enumerate(p.scan.images):
                found = image_cuda(image)
                out.write(f"  stage {index}: {image} ({found or 'no CUDA in the image name'})\n")
        for verdict in verdicts.get(p.path, ()):
            out.write(f"  {verdict}\n")
        moves = {id(c.pin): c.new_version for c in p.changes}
        for pin in p.scan.pins:
            new = moves.get(id(pin))
            state = f"-> {new}" if new else "in step"
            targets = resolution.targets_for(pin) if (pin.written_in, pin.stage) in resolution.group_of else None
            reason = why(pin, targets, version_from)
            at = f"line {pin.line}" if pin.path == p.path else f"{pin.path}:{pin.line}"  # a file it reads
            out.write(f"  {at}: {pin.package} {pin.operator}{pin.version}"
                      f"{pin.defined_at(p.old_text)} {state}"
                      + (f" [{reason}]" if reason else "") + "\n")
        for move in p.pages:
            out.write(f"  line {move.line}: find-links {move.old} -> {move.new}\n")
        for note in p.scan.mentions:
            out.write(f"  line {note.line}: {note.message}\n")


SKIPS_SHOWN = 5


def proof_lines(resolution: Resolution, path: str) -> list[str]:
    """Each stage's proof in words: what the resolver answered for the whole install, and the
    candidates skipped on the way (the resolver refused them, or its answer broke a rule)."""
    out = []
    for targets in resolution.decisions_by_path.get(path, ()):
        for candidate, kind, why in targets.skipped[:SKIPS_SHOWN]:
            said = {"rules": "jax's rules", "resolver": "the resolver"}.get(kind, f"the answer ({kind})")
            out.append(f"skipped {candidate}: {said}: {why}")
        if len(targets.skipped) > SKIPS_SHOWN:
            out.append(f"skipped {len(targets.skipped) - SKIPS_SHOWN} more candidates")
    for stage, proof in resolution.proofs_by_path.get(path, ()):
        out.append(f"stage {stage} proof: {_proof_words(proof)}")
        if proof.asked and proof.state != "not asked":
            neighbours = f"; constraints: {' '.join(proof.constraints)}" if proof.constraints else ""
            out.append(f"  asked: {' '.join(proof.asked)}{neighbours}")
        if proof.imported:
            out.append(f"  import: {proof.imported}")
    return out


def _proof_words(proof: Proof) -> str:
    if proof.state == "installs":
        asked = {canonicalize_name(re.split(r"[\[=~<>!;@ ]", r, maxsplit=1)[0]) for r in proof.asked}
        named = [f"{n}=={v}" for n, v in proof.installs if canonicalize_name(n) in asked]
        more = len(proof.installs) - len(named)
        chose = " ".join(named) + (f" and {more} more" if more else "")
        text = f"{proof.tool} installs it for {proof.target} ({proof.libc}){' [cached]' if proof.cached else ''}: {chose}"
        if proof.reason:  # how it was asked, where that needs saying (an index without dates)
            text += f" ({proof.reason})"
    elif proof.state == "refused":
        text = f"refused by {proof.tool}: {proof.reason}"
    elif proof.state == "unproved":
        text = f"not proved: {proof.reason}"
    else:
        text = f"not asked ({proof.reason})"
    if proof.left_out and proof.state in ("installs", "refused"):
        text += f" (left out: {'; '.join(proof.left_out)})"
    return text


def unproved_warnings(plans: Sequence[FilePlan], resolution: Resolution) -> list[str]:
    """A stage the resolver could not answer for, named once per reason: the rules decided."""
    out: list[str] = []
    said: set[str] = set()
    paths = {p.path: p for p in plans}
    for (path, stage), proof in sorted(resolution.proofs().items()):
        if proof.state != "unproved" or path not in paths:
            continue
        own = (pin.line for pin in paths[path].scan.pins if pin.stage == stage and pin.path == path)
        line = next(own, 0) or _stage_line(paths[path].scan, stage)
        why = "(same reason)" if proof.reason in said else proof.reason
        said.add(proof.reason)  # an unreachable host is named once, not per file
        out.append(f"{path}:{line}: stage {stage} not proved by a resolver: {why}; the rules decided")
    return out


def _stage_line(scan: Scan, stage: int) -> int:
    """Where a stage whose pins are all in requirements files installs them (else its FROM)."""
    if not 0 <= stage < len(scan.stages):
        return 0
    facts = scan.stages[stage]
    return next((pip.first for pip in facts.pips if pip.files), facts.line)


def _images(p: FilePlan, config: Config, request: Request, out: TextIO) -> None:
    """Each stage's image: its Python, platform and CUDA, and where each answer came from."""
    from release_hook.resolve.image import images_of

    for index, image in enumerate(images_of(p.scan, config, request)):
        out.write(f"  stage {index} (line {image.line}): {image.name}\n")
        said = {key: o.words(image.name, key) for key, o in image.origins.items()}
        out.write(f"    python {image.python_text} ({said['python']})\n")
        out.write(f"    platform {image.platform or 'unknown'} ({said['platform']})\n")
        out.write(f"    {image.cuda} ({said.get('cuda')})\n" if image.cuda else
                  "    no CUDA (the base image name does not say)\n")


def document(plans: Sequence[FilePlan], resolution: Resolution, package: str, version: str,
             mode: str, version_from: str, diffs: dict[str, str] | None = None) -> dict[str, Any]:
    """The run as one JSON-ready value; its shape is documented in the README."""
    files = []
    traps: dict[str, list[Note]] = {}
    for note in resolution.warnings:
        traps.setdefault(note.path, []).append(note)
    for p in plans:
        targets = resolution.targets(p.path) if p.scan.pins else None
        policy = targets.policy if targets is not None else None
        moves = {id(c.pin): c.new_version for c in p.changes}
        pins = []
        for pin in p.scan.pins:
            grouped = (pin.written_in, pin.stage) in resolution.group_of
            pin_targets = resolution.targets_for(pin) if grouped else None
            target = moves.get(id(pin)) or (pin_targets.for_pin(pin) if pin_targets is not None else None)
            set_at = sorted({line_of(p.old_text, o) for o in pin.chars.origin if o >= 0})
            pins.append({
                "file": pin.path,
                "line": pin.line,
                "package": pin.package,
                "kind": pin.kind,
                "operator": pin.operator,
                "current": pin.version,
                "target": target,
                "in_step": None if target is None else target == pin.version,
                "policy": pin_targets.policy if pin_targets is not None else policy,
                "source": why(pin, pin_targets, version_from) or None,
                "set_at": set_at,
                "stage": pin.stage,
                "image": pin.image,
            })
        stages = [{"stage": stage, "proof": proof.state, "resolver": proof.tool or None,
                   "target": proof.target, "libc": proof.libc, "asked": list(proof.asked),
                   "constraints": list(proof.constraints), "left_out": list(proof.left_out),
                   "installs": [{"name": n, "version": v} for n, v in proof.installs],
                   "reason": proof.reason or None, "imported": proof.imported or None}
                  for stage, proof in resolution.proofs_by_path.get(p.path, ())]
        entry: dict[str, Any] = {
            "path": p.path,
            "policy": policy,
            "in_step": not p.changed,
            "pins": pins,
            "find_links": [{"line": m.line, "current": m.old, "target": m.new} for m in p.pages],
            "mentions": [{"line": n.line, "message": n.message} for n in p.scan.mentions],
            "warnings": [{"line": n.line, "message": n.message}
                         for n in (*p.scan.warnings, *traps.get(p.path, ()))],
            "stages": stages,
        }
        if diffs is not None:
            entry["diff"] = diffs.get(p.path, "")
        files.append(entry)
    return {**_head(mode, package, version, version_from),
            "in_step": all(f["in_step"] for f in files), "files": files, "error": None}


def _head(mode: str, package: str | None, version: str | None, version_from: str | None) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "tool": "release-hook", "tool_version": __version__,
            "mode": mode, "package": package, "version": version, "version_from": version_from}


def with_next_step(error: UserError, offline: bool) -> UserError:
    """A failure of the package index, said with what to do next (a push says its own next
    step: push again when the index answers, or [release_hook] offline_push)."""
    from release_hook.resolve.index import IndexUnavailable
    from release_hook.resolve.requirements import ELSEWHERE, ReleaseUnavailable

    if not isinstance(error, IndexUnavailable):
        return error
    step = ("run it once without --offline, with the index reachable, to cache what it reads" if offline
            else "try again when the index answers (the one pip is configured for), or add --offline "
            "to use what an earlier run cached")
    if isinstance(error, ReleaseUnavailable):
        step += f"; or {ELSEWHERE}"
    return type(error)(f"{error.message}; {step}", error.path, error.line)


def error_document(mode: str, package: str | None, version: str | None, version_from: str | None,
                   error: UserError) -> dict[str, Any]:
    """A run that stopped with an error (exit 2), as a document of the same shape: nothing
    decided (`in_step` null, no files), and the error's line with its file and line apart."""
    return {**_head(mode, package, version, version_from), "in_step": None, "files": [],
            "error": {"message": error.message, "path": error.path, "line": error.line, "text": str(error)}}


def write_json(value: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
