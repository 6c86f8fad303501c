"""Whether a candidate imports: what no metadata says. The released package declares no upper
bound on jax, and jax removes APIs: numpyro 0.18.0 installs beside jax 0.7.0 and then fails at
`import numpyro` (`cannot import name 'pjit_p'`).

Two sources answer, in order: the shipped table of breaks already proved (import_table.py,
rebuilt by scripts/build_import_table.py from real imports), which needs neither the network
nor the image's Python; then, with `--smoke` (or `[release_hook] smoke = true`), a real install
and import in a throwaway virtualenv of the image's Python (smoke.py). A break is a boundary: a
release that fails with jax X fails with every newer jax, so the search bisects on a failure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from packaging.version import InvalidVersion, Version

from release_hook.resolve import import_table, smoke
from release_hook.resolve.image import Target


@dataclass(frozen=True)
class Judged:
    """An import verdict on one candidate: ok, and the words for the proof."""

    ok: bool
    said: str  # "imports on Python 3.12.1", "not proved by import: ...", the table's word
    below: Version | None = None  # no jax newer than this imports (the table knows the break)


class Imports:
    def __init__(self, package: str, release: str, latest: bool, run: bool, how: smoke.Settings) -> None:
        self.package, self.release, self.latest, self.run, self.how = package, release, latest, run, how
        self.module = smoke.import_name(package)

    def table(self, jax: Version | None) -> Judged | None:
        """The shipped table's word on this jax, when it has one."""
        if jax is None:
            return None
        known, row = import_table.says(self.package, self.release, str(jax))
        if known is None or row is None:
            return None
        if known:
            return Judged(True, f"imports, by the shipped table ({self.package} {self.release} with jax up to "
                                f"{row.last_imports}, proved on Python {row.python} on {row.proved})")
        below = _version(row.last_imports)
        return Judged(False, f"{self.package} {self.release} fails at import from jax {row.first_fails} "
                             f"({row.fails_with}; the shipped table, proved on Python {row.python})", below)

    def tried(self, requirements: Sequence[str], options: Sequence[tuple[str, str]],
              constraints: Sequence[str], target: Target) -> Judged | None:
        """A real install and import, when asked for (--smoke); None when not asked."""
        if not self.run:
            return None
        verdict = smoke.smoke(smoke.SmokeSet(tuple(requirements), tuple(options), tuple(constraints)),
                              target, self.module, how=self.how)
        return Judged(verdict.state != smoke.FAILS, str(verdict))

    def unproved(self) -> str:
        """What --explain says when neither source could answer for a `latest` choice."""
        if not self.latest or self.run:
            return ""
        return (f"not proved by import: the shipped table has no row for {self.package} {self.release} "
                "(--smoke installs and imports it)")


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None
