"""The import proof's one run: a throwaway virtualenv made by uv, the install, the import.

Each step has a time bound and is ended with everything it started when it overruns. The
import runs isolated (`python -I`, from an empty folder) so that neither PYTHONPATH nor a
source checkout in the current folder can stand in for what was installed.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Sequence

from release_hook.resolve import uvcli


@dataclass(frozen=True)
class Ran:
    state: str  # "imports", "fails" or "unproved"
    step: str = ""  # "install" or "import"
    reason: str = ""
    installed: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0


def run(requirements: Sequence[str], constraints: Sequence[str], options: Sequence[str],
        python: str, script: str, limit: float, offline: bool = False) -> Ran:
    """Install `requirements` (with uv's `options`) into a new virtualenv of `python` and run
    `script` there on the CPU."""
    start = time.monotonic()
    uv = uvcli.binary()
    if uv is None:
        return Ran("unproved", reason="uv is not installed")
    with tempfile.TemporaryDirectory(prefix="release-hook-smoke-") as folder:
        venv = os.path.join(folder, "venv")
        made = _run([uv, "venv", "--quiet", "--no-config", "--python", python, venv], limit, folder)
        if isinstance(made, str) or made[0] != 0:
            return Ran("unproved", reason=f"uv cannot make a virtualenv of {python}: "
                       f"{made if isinstance(made, str) else _last_line(made[2], venv)}")
        with open(os.path.join(folder, "requirements.txt"), "w", encoding="utf-8") as f:
            f.write("".join(f"{r}\n" for r in requirements))
        cmd = [uv, "pip", "install", "--python", os.path.join(venv, "bin", "python"), "--no-config",
               "--color", "never", "--index-strategy", "unsafe-best-match", *uvcli.index_options(),
               *options, "-r", os.path.join(folder, "requirements.txt")]
        if constraints:
            with open(os.path.join(folder, "constraints.txt"), "w", encoding="utf-8") as f:
                f.write("".join(f"{c}\n" for c in constraints))
            cmd += ["--constraints", os.path.join(folder, "constraints.txt")]
        if offline:
            cmd.append("--offline")
        done = _run(cmd, limit, folder)
        if isinstance(done, str):
            return Ran("unproved", "install", f"uv install: {done}", seconds=time.monotonic() - start)
        code, _, err = done
        installed = tuple((m.group(1), m.group(2)) for m in re.finditer(r"^ \+ ([^=\s]+)==(\S+)", err, re.M))
        if code != 0:
            reason = _uv_reason(err)
            # only a resolution that has no answer says something about the image
            state = "fails" if "No solution found" in err and not offline else "unproved"
            if offline and state == "unproved":
                reason = f"offline, and uv's cache cannot install it: {reason}"
            return Ran(state, "install", reason, seconds=time.monotonic() - start)
        env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_PLATFORM_NAME="cpu", CUDA_VISIBLE_DEVICES="")
        env.pop("VIRTUAL_ENV", None)
        imported = _run([os.path.join(venv, "bin", "python"), "-I", "-c", script], limit, folder, env)
        seconds = time.monotonic() - start
        if isinstance(imported, str):
            return Ran("unproved", "import", f"the import: {imported}", installed, seconds)
        code, _, err = imported
        if code == 0:
            return Ran("imports", "import", "", installed, seconds)
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            return Ran("fails", "import", f"killed by {name}", installed, seconds)
        return Ran("fails", "import", _last_line(err, venv) or f"exit status {code}", installed, seconds)


def _run(cmd: list[str], limit: float, cwd: str,
         env: dict[str, str] | None = None) -> tuple[int, str, str] | str:
    """(exit status, stdout, stderr), or why there is none."""
    try:
        process = subprocess.Popen(cmd, cwd=cwd, env=env if env is not None else uvcli.environment(),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
    except OSError as e:
        return f"cannot run {os.path.basename(cmd[0])}: {e.strerror or e}"
    try:
        out, err = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # and whatever it started (builds)
        except OSError:
            process.kill()
        process.communicate()
        return f"not done within {limit:g}s"
    return process.returncode, out, err


_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)(: .*)?")


def _last_line(text: str, venv: str) -> str:
    """The exception a traceback ends with (jax prints a note after it), else the last line,
    without the throwaway folder's paths."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    raised = [line for line in lines if _EXCEPTION.fullmatch(line)]
    line = raised[-1] if raised else lines[-1].strip()
    if "_ARRAY_API not found" in text and "_ARRAY_API" not in line:
        line += " (after `_ARRAY_API not found`: a module built for NumPy 1.x under NumPy 2)"
    line = re.sub(r" \(" + re.escape(venv) + r"[^)]*\)", "", line).replace(venv, "<venv>")
    return line if len(line) <= 300 else line[:297] + "..."


def _uv_reason(stderr: str) -> str:
    """uv's explanation as one line."""
    parts = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line or line.startswith(("Using ", "Resolved ", "Prepared ", "Installed ", "Audited ")):
            continue
        line = re.sub(r"^(error|cause|Caused by):\s*", "", line)
        if line.startswith("No solution found"):
            continue
        parts.append(line)
    text = " ".join(parts) or "uv failed without saying why"
    return text if len(text) <= 400 else text[:397] + "..."
