"""The one walker of a Dockerfile (see `walker.py`); nothing else reads RUN lines."""
from __future__ import annotations

from release_hook.walk.walker import BUILD_PLATFORM_VARS, JAX_PACKAGES, walk

__all__ = ["BUILD_PLATFORM_VARS", "JAX_PACKAGES", "walk"]
