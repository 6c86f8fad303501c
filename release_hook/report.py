"""The plan as a reader wants it: per Dockerfile, each pin, where it goes and what decided it;
as text for people (`--explain`, `--dry-run`) or as one JSON document for CI and bots."""
from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence, TextIO

from release_hook import __version__
from release_hook.config import Config
from release_hook.errors import UserError
from release_hook.pins import Note, Pin, line_of
from release_hook.plan import FilePlan
from release_hook.request import Request
from release_hook.resolve.targets import PLUGINS, Resolution, Targets

# Version of the JSON document's shape. Fields are only ever added within one version; a field
# removed, renamed or given another meaning raises it (see README, "Machine-readable output").
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Output:
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
    source = targets.sources.get(pin.package, "")
    if not source and pin.package in PLUGINS:
        source = "follows jaxlib"
    reason = "; ".join(x for x in (f"release needs {need}" if need else "", source) if x)
    build = targets.sources.get(f"build for {pin.image}") if pin.package == "jaxlib" else None
    if build:
        reason += f"; build {build}"
    return reason


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
            targets = resolution.targets_for(pin) if (pin.path, pin.stage) in resolution.group_of else None
            reason = why(pin, targets, version_from)
            out.write(f"  line {pin.line}: {pin.package} {pin.operator}{pin.version}"
                      f"{pin.defined_at(p.old_text)} {state}"
                      + (f" [{reason}]" if reason else "") + "\n")
        for move in p.pages:
            out.write(f"  line {move.line}: find-links {move.old} -> {move.new}\n")
        for note in p.scan.mentions:
            out.write(f"  line {note.line}: {note.message}\n")


def _images(p: FilePlan, config: Config, request: Request, out: TextIO) -> None:
    """Each stage's image: its Python, platform and CUDA, and where each answer came from."""
    from release_hook.resolve.image import images_of

    for index, image in enumerate(images_of(p.scan, config, request)):
        out.write(f"  stage {index} (line {image.line}): {image.name}\n")
        out.write(f"    python {image.python_text} ({image.sources['python']})\n")
        out.write(f"    platform {image.platform or 'unknown'} ({image.sources['platform']})\n")
        cuda = image.sources.get("cuda")
        out.write(f"    {image.cuda} ({cuda})\n" if image.cuda else "    no CUDA (the base image name does not say)\n")


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
            grouped = (pin.path, pin.stage) in resolution.group_of
            pin_targets = resolution.targets_for(pin) if grouped else None
            target = moves.get(id(pin)) or (pin_targets.for_pin(pin) if pin_targets is not None else None)
            set_at = sorted({line_of(p.old_text, o) for o in pin.chars.origin if o >= 0})
            pins.append({
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
        entry: dict[str, Any] = {
            "path": p.path,
            "policy": policy,
            "in_step": not p.changed,
            "pins": pins,
            "find_links": [{"line": m.line, "current": m.old, "target": m.new} for m in p.pages],
            "mentions": [{"line": n.line, "message": n.message} for n in p.scan.mentions],
            "warnings": [{"line": n.line, "message": n.message}
                         for n in (*p.scan.warnings, *traps.get(p.path, ()))],
        }
        if diffs is not None:
            entry["diff"] = diffs.get(p.path, "")
        files.append(entry)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "release-hook",
        "tool_version": __version__,
        "mode": mode,
        "package": package,
        "version": version,
        "version_from": version_from,
        "in_step": all(f["in_step"] for f in files),
        "files": files,
        "error": None,
    }


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
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "release-hook",
        "tool_version": __version__,
        "mode": mode,
        "package": package,
        "version": version,
        "version_from": version_from,
        "in_step": None,
        "files": [],
        "error": {"message": error.message, "path": error.path, "line": error.line, "text": str(error)},
    }


def write_json(value: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
