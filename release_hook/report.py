"""The plan as a reader wants it: per Dockerfile, each pin, where it goes and why."""
from __future__ import annotations

from typing import TextIO, Sequence

from release_hook.plan import FilePlan
from release_hook.resolve.targets import Targets


def explain(plans: Sequence[FilePlan], targets: Targets, out: TextIO) -> None:
    for p in plans:
        out.write(f"{p.path}:\n")
        for index, image in enumerate(p.scan.images):
            out.write(f"  stage {index}: {image}\n")
        moves = {id(c.pin): c.new_version for c in p.changes}
        for pin in p.scan.pins:
            new = moves.get(id(pin))
            source = targets.sources.get(pin.package, "--version" if pin.package == targets.package else "")
            arrow = f"-> {new}" if new else "in step"
            via = f" ({source})" if source else ""
            out.write(f"  line {pin.line}: {pin.package} {pin.operator}{pin.version} {arrow}{via}\n")
        for note in p.scan.mentions:
            out.write(f"  line {note.line}: {note.message}\n")
