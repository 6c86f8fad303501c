"""What one file of a release says, read as little of it as possible and checked.

Metadata: the index's PEP 658 metadata file (PEP 714 names it `core-metadata`), checked against
the digest the page gives for it; else the wheel's METADATA read in byte ranges (remote_zip);
else, for a release published as source only, PKG-INFO from the source archive, which is read
whole but bounded and checked against the page's digest of the file. A server that sends a
whole wheel where a range was asked is read only when the wheel is small; else it is said.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Optional

from release_hook.errors import UserError
from release_hook.resolve import remote_zip
from release_hook.resolve.index_errors import RangesIgnored, TooLarge

if TYPE_CHECKING:
    from release_hook.resolve.client import Client
    from release_hook.resolve.pages import File

SDIST_LIMIT = 32 * 1024 * 1024  # jax's 0.2.x source archives are about 1 MB
SMALL_WHEEL = 2 * 1024 * 1024  # read whole when the server will not send a range
METADATA_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class Metadata:
    """What a release's core metadata says about installing it."""

    requires_dist: tuple[str, ...]
    requires_python: Optional[str]
    provides_extra: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"requires_dist": list(self.requires_dist), "requires_python": self.requires_python,
                "provides_extra": list(self.provides_extra)}

    @staticmethod
    def from_json(value: object) -> Optional[Metadata]:
        if not isinstance(value, dict):
            return None
        rd, rp, pe = value.get("requires_dist"), value.get("requires_python"), value.get("provides_extra")
        if not (isinstance(rd, list) and isinstance(pe, list) and (rp is None or isinstance(rp, str))):
            return None
        return Metadata(tuple(map(str, rd)), rp, tuple(map(str, pe)))


def check_digest(data: bytes, digests: Mapping[str, str] | None, what: str) -> None:
    """The data must match every digest the index gives that hashlib knows (sha256 for PyPI)."""
    for name, expected in (digests or {}).items():
        if name.lower() in hashlib.algorithms_guaranteed:
            if hashlib.new(name.lower(), data).hexdigest() != expected.lower():
                raise UserError(f"{what} does not match the {name} digest the index gives for it; "
                                "not trusted")


def metadata(client: Client, pkg: File) -> Metadata:
    """The core metadata of one release file (a wheel, or a source archive)."""
    if pkg.has_metadata:
        import requests

        try:
            served = client.read(pkg.metadata_url, METADATA_LIMIT)
        except requests.HTTPError as e:
            if getattr(e.response, "status_code", None) != 404:
                raise
        else:  # advertised and served: it must be what the page's digest says
            check_digest(served, pkg.metadata_digests, f"the metadata file of {pkg.filename}")
            return parse_metadata(_text(served, pkg.filename))
    if pkg.filename.endswith(".whl"):
        return parse_metadata(_text(_wheel_metadata(client, pkg), pkg.filename))
    data = _sdist_member(client, pkg, _pkg_info)
    if data is None:
        raise _missing(pkg.filename, "PKG-INFO")
    return parse_metadata(_text(data, pkg.filename))


def sdist_member(client: Client, pkg: File, suffix: str) -> Optional[str]:
    """A text file of a source archive (`jax/version.py`), None when it has none."""
    def wanted(name: str) -> bool:
        return name.endswith("/" + suffix) and name.count("/") == suffix.count("/") + 1

    data = _sdist_member(client, pkg, wanted)
    return None if data is None else _text(data, pkg.filename)


def _wheel_metadata(client: Client, pkg: File) -> bytes:
    def choose(names: list[str]) -> Optional[str]:
        return next((n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")), None)

    def read(start: Optional[int], length: int) -> tuple[bytes, int]:
        return client.read_range(pkg.url, start, length)

    try:
        found = remote_zip.read_member(read, choose)
    except RangesIgnored as e:
        if e.size is None or e.size > SMALL_WHEEL:
            size = f" ({e.size // (1024 * 1024)} MB)" if e.size else ""
            raise UserError(f"cannot read the metadata of {pkg.filename}: the index has no metadata file "
                            f"for it and its server sends whole files, not byte ranges; not downloading "
                            f"the wheel{size}") from None
        data = client.read(pkg.url, SMALL_WHEEL)
        check_digest(data, pkg.digests, pkg.filename)
        found = remote_zip.read_member(lambda start, length: _slice(data, start, length), choose)
    except remote_zip.NotAZip:
        raise UserError(f"the index answered garbage for {pkg.filename} (not a readable archive)") from None
    if found is None:
        raise _missing(pkg.filename, "METADATA")
    return found[1]


def _slice(data: bytes, start: Optional[int], length: int) -> tuple[bytes, int]:
    return (data[-length:] if start is None else data[start:start + length]), len(data)


def _sdist_member(client: Client, pkg: File, wanted: Callable[[str], bool]) -> Optional[bytes]:
    import io
    import tarfile  # old sdists only: imported when one is read

    try:
        data = client.read(pkg.url, SDIST_LIMIT)
    except TooLarge:
        raise UserError(f"{pkg.filename} is over {SDIST_LIMIT // (1024 * 1024)} MB; not read") from None
    check_digest(data, pkg.digests, pkg.filename)
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                if member.isfile() and wanted(member.name):
                    f = archive.extractfile(member)
                    return f.read() if f is not None else None
    except (tarfile.TarError, OSError, EOFError):
        raise UserError(f"the index answered garbage for {pkg.filename} (not a readable archive)") from None
    return None


def _pkg_info(name: str) -> bool:
    return name.count("/") == 1 and name.endswith("/PKG-INFO")


def _text(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"the index answered garbage for {filename} (metadata that is not UTF-8)") from None


def _missing(filename: str, what: str) -> UserError:
    return UserError(f"{filename} has no {what}")


def parse_metadata(text: str) -> Metadata:
    import email.parser  # only when metadata is read, not when the cache answers

    message = email.parser.HeaderParser().parsestr(text)
    if message.get("Name") is None and message.get("Metadata-Version") is None:
        raise UserError("the index answered garbage where package metadata was expected")
    python = message.get("Requires-Python")
    return Metadata(tuple(str(r) for r in message.get_all("Requires-Dist") or []),
                    str(python).strip() if python else None,
                    tuple(str(e).strip() for e in message.get_all("Provides-Extra") or []))
