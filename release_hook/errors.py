"""The one error type the tool reports: a short line, with file:line where one applies."""
from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused operation. The CLI prints it as one line and exits 2."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"
