"""jaxlib wheels installed by their URL (the way before jaxlib 0.1.52): listed, never rewritten."""
from __future__ import annotations

import re

from release_hook.find.found import Found

# .../cuda101/jaxlib-0.1.50-cp37-none-manylinux2010_x86_64.whl
_JAXLIB_WHEEL_URL = re.compile(r"(?:/(cuda\d+))?/jaxlib-([0-9][^-/]*)-[^/]*\.whl$")


def jaxlib_wheel_url(found: Found, text: str, line: int) -> bool:
    """Note a jaxlib wheel URL in the plan; True when `text` is one."""
    wheel = _JAXLIB_WHEEL_URL.search(text)
    if wheel is None or "jaxlib" not in found.kept:
        return False
    where = f" ({wheel.group(1)})" if wheel.group(1) else ""
    found.mention(line, f"jaxlib {wheel.group(2)} as a direct wheel URL{where}: listed, not changed "
                  "(choose a tagged pin, jaxlib==X+cudaNNN -f <jax_releases.html>, to have it kept)")
    return True
