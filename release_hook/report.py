"""The plan as a reader wants it: per Dockerfile, each pin, where it goes and what decided it."""
from __future__ import annotations

from typing import Sequence, TextIO

from release_hook.config import Config
from release_hook.plan import FilePlan
from release_hook.request import Request
from release_hook.resolve.cuda import image_cuda
from release_hook.resolve.targets import PLUGINS, Resolution


def explain(plans: Sequence[FilePlan], resolution: Resolution, out: TextIO,
            config: Config | None = None, request: Request | None = None) -> None:
    for p in plans:
        targets = resolution.targets(p.path) if p.scan.pins else None
        policy = f" (policy: {targets.policy})" if targets is not None and targets.policy else ""
        out.write(f"{p.path}{policy}\n")
        if config is not None and request is not None:
            _images(p, config, request, out)
        else:
            for index, image in enumerate(p.scan.images):
                found = image_cuda(image)
                out.write(f"  stage {index}: {image} ({found or 'no CUDA in the image name'})\n")
        moves = {id(c.pin): c.new_version for c in p.changes}
        for pin in p.scan.pins:
            new = moves.get(id(pin))
            state = f"-> {new}" if new else "in step"
            why = ""
            if targets is not None:
                if pin.package == targets.package:
                    why = "--version" if pin.kind == "requirement" else "--version (git tag)"
                else:
                    need = targets.requirements.get(pin.package)
                    source = targets.sources.get(pin.package, "")
                    if not source and pin.package in PLUGINS:
                        source = "follows jaxlib"
                    why = "; ".join(x for x in (f"release needs {need}" if need else "", source) if x)
                    build = targets.sources.get(f"build for {pin.image}") if pin.package == "jaxlib" else None
                    if build:
                        why += f"; build {build}"
                    if pin.package in targets.unresolved:
                        why = f"not decided: {targets.unresolved[pin.package]}"
            out.write(f"  line {pin.line}: {pin.package} {pin.operator}{pin.version}"
                      f"{pin.defined_at(p.old_text)} {state}"
                      + (f" [{why}]" if why else "") + "\n")
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
