"""The plan as a reader wants it: per Dockerfile, each pin, where it goes and what decided it."""
from __future__ import annotations

from typing import Sequence, TextIO

from release_hook.plan import FilePlan
from release_hook.resolve.cuda import image_cuda
from release_hook.resolve.targets import PLUGINS, Resolution


def explain(plans: Sequence[FilePlan], resolution: Resolution, out: TextIO) -> None:
    if resolution.as_of is not None:
        out.write(f"latest as of {resolution.as_of.isoformat(timespec='seconds')}\n")
    for p in plans:
        first = resolution.targets(p.path) if p.scan.pins else None
        policy = f" (policy: {first.policy})" if first is not None and first.policy else ""
        out.write(f"{p.path}{policy}\n")
        for index, image in enumerate(p.scan.images):
            seen = resolution.images.get((p.path, index))
            if seen is None:
                found = image_cuda(image)
                out.write(f"  stage {index}: {image} ({found or 'no CUDA in the image name'})\n")
                continue
            why = "; ".join(f"{k} from {v}" for k, v in sorted(seen.sources.items()))
            out.write(f"  stage {index}: {image} (Python {seen.python_text}, {seen.platform}, "
                      f"{seen.cuda or 'no CUDA in the image name'}{'; ' + why if why else ''})\n")
        moves = {id(c.pin): c.new_version for c in p.changes}
        for pin in p.scan.pins:
            new = moves.get(id(pin))
            state = f"-> {new}" if new else "in step"
            why = ""
            targets = resolution.targets_for(pin) if (pin.path, pin.stage) in resolution.group_of else None
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
