"""The one walker of a Dockerfile: `walk(df, package)` reads it once into a `found.Scan`.

    walker.py       the stages: FROM, ENV/ARG, WORKDIR, COPY/ADD, SHELL, RUN
    run.py          one RUN: its forms (shell, exec, heredocs, `sh -c`), bind mounts, commands
    commands.py     the grammar of commands: wrappers, "is this pip install", pip's options
    pip.py          one pip install: kept pins, neighbours, files, options -> `PipInstall`
    kept.py         which requirement is a kept pin; sources.py: source references, wheel URLs
    python.py       the Python a command runs; interpreters.py: the commands that change it
    files.py        where COPY, ADD and bind mounts put the files a command reads (`place`)
    scopes.py       ENV/ARG scopes and the one expansion that keeps every character's offset
    state.py        what a stage has done so far; findings.py: the pins and notes of the file

Nothing is run and nothing but the Dockerfile's text is read (no git, network or files).
"""
from __future__ import annotations

from release_hook.walk.walker import BUILD_PLATFORM_VARS, JAX_PACKAGES, walk

__all__ = ["BUILD_PLATFORM_VARS", "JAX_PACKAGES", "walk"]
