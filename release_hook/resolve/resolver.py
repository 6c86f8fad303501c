"""Decide every pin's target: from --version and --pin first, then from the release's requirements."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Sequence

from release_hook.errors import UserError
from release_hook.pins import Scan
from release_hook.resolve.targets import PLUGINS, Targets

if TYPE_CHECKING:
    from release_hook.config import Config
    from release_hook.sync import Request


def needed(scans: Sequence[Scan], package: str) -> set[str]:
    return {pin.package for scan in scans for pin in scan.pins if pin.package != package}


ReadFile = Callable[[str], Optional[bytes]]


def resolve(config: Config, request: Request, scans: Sequence[Scan], partial: bool = False,
            root_files: ReadFile | None = None) -> Targets:
    """Targets for every pin. With partial, what cannot be decided is listed, not raised."""
    explicit = dict(request.pins)
    missing = needed(scans, config.package) - set(explicit)
    if "jaxlib" in explicit:
        missing -= set(PLUGINS)
    sources = {name: "--pin" for name in explicit}
    if "jaxlib" in explicit:
        sources.update({p: "--pin jaxlib" for p in PLUGINS if p not in explicit})
    if not missing:
        return Targets(config.package, request.version, explicit, sources=sources)
    if partial:
        return Targets(config.package, request.version, explicit, sources=sources,
                       unresolved={m: "no version source" for m in missing})
    raise UserError(f"no target for {', '.join(sorted(missing))}: pass --pin NAME==VERSION")
