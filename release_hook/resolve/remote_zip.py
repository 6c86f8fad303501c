"""One member of a zip archive that is read in byte ranges: a wheel's METADATA from an index
without PEP 658 metadata files, as pip's lazy wheel reads it, without the rest of the wheel.

The end of the archive holds its central directory (APPNOTE 4.3.16: the end record, zip64's
locator and record before it when the archive is large); the directory gives each member's
offset and sizes; the member's local header and data are then read alone. The data is checked
against the directory's CRC-32 and size.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Callable, Optional

# read(start, length) -> (bytes, size of the whole file); start None: the last `length` bytes
ReadRange = Callable[[Optional[int], int], "tuple[bytes, int]"]

TAIL = 64 * 1024  # the end record, its comment (< 64 KiB) and, for a wheel, the whole directory
MEMBER_LIMIT = 4 * 1024 * 1024  # a METADATA file is a few KB
_END = struct.Struct("<4sHHHHIIH")  # end of central directory record
_LOCATOR = struct.Struct("<4sIQI")  # zip64 end of central directory locator
_END64 = struct.Struct("<4sQHHIIQQQQ")  # zip64 end of central directory record
_ENTRY = struct.Struct("<4sHHHHHHIIIHHHHHII")  # central directory file header
_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # local file header


class NotAZip(ValueError):
    """The bytes are not a readable zip archive (or the member cannot be read)."""


@dataclass(frozen=True)
class Member:
    name: str
    method: int
    crc: int
    compressed: int
    size: int
    offset: int  # of the local header


def read_member(read: ReadRange, choose: Callable[[list[str]], Optional[str]]) -> tuple[str, bytes] | None:
    """The member `choose` picks from the archive's names, and its bytes (None: no pick)."""
    try:
        return _read_member(read, choose)
    except struct.error:
        raise NotAZip("a record cut short") from None


def _read_member(read: ReadRange, choose: Callable[[list[str]], Optional[str]]) -> tuple[str, bytes] | None:
    tail, total = read(None, TAIL)
    members = _directory(read, tail, total)
    name = choose([m.name for m in members])
    if name is None:
        return None
    member = next(m for m in members if m.name == name)
    if member.size > MEMBER_LIMIT or member.compressed > MEMBER_LIMIT:
        raise NotAZip(f"{name} is {member.size} bytes")
    data = _ranged(read, tail, total, member.offset, _LOCAL.size + len(name.encode()) + 256 + member.compressed)
    header = _LOCAL.unpack_from(data)
    if header[0] != b"PK\x03\x04":
        raise NotAZip("no local header where the directory says")
    start = _LOCAL.size + header[9] + header[10]
    if len(data) < start + member.compressed:
        data = _ranged(read, tail, total, member.offset, start + member.compressed)
    return name, _inflate(member, data[start:start + member.compressed])


def _ranged(read: ReadRange, tail: bytes, total: int, start: int, length: int) -> bytes:
    """Bytes [start, start + length) of the file, from the tail already read when they are in it."""
    length = min(length, total - start)
    if start < 0 or length <= 0:
        raise NotAZip("an offset outside the archive")
    tail_start = total - len(tail)
    if start >= tail_start:
        return tail[start - tail_start:start - tail_start + length]
    data, _ = read(start, length)
    if len(data) != length:
        raise NotAZip("a short read")
    return data


def _directory(read: ReadRange, tail: bytes, total: int) -> list[Member]:
    at = tail.rfind(b"PK\x05\x06")
    # the record's comment runs to the end of the file: a match that does not fit was data
    while at >= 0 and (at + _END.size > len(tail) or at + _END.size + _END.unpack_from(tail, at)[7] != len(tail)):
        at = tail.rfind(b"PK\x05\x06", 0, at)
    if at < 0:
        raise NotAZip("no end of central directory")
    _, _, _, _, count, size, offset, _ = _END.unpack_from(tail, at)
    if 0xFFFF in (count,) or 0xFFFFFFFF in (size, offset):
        locator = at - _LOCATOR.size
        if locator < 0 or tail[locator:locator + 4] != b"PK\x06\x07":
            raise NotAZip("no zip64 locator")
        end64 = _ranged(read, tail, total, _LOCATOR.unpack_from(tail, locator)[2], _END64.size)
        record = _END64.unpack(end64)
        if record[0] != b"PK\x06\x06":
            raise NotAZip("no zip64 end record")
        count, size, offset = record[7], record[8], record[9]
    if size > 64 * 1024 * 1024:
        raise NotAZip("a central directory over 64 MB")
    return _entries(_ranged(read, tail, total, offset, size), count)


def _entries(data: bytes, count: int) -> list[Member]:
    members = []
    at = 0
    for _ in range(count):
        if at + _ENTRY.size > len(data):
            raise NotAZip("a truncated central directory")
        (sig, _, _, flags, method, _, _, crc, compressed, size, name_len, extra_len, comment_len,
         _, _, _, offset) = _ENTRY.unpack_from(data, at)
        if sig != b"PK\x01\x02":
            raise NotAZip("a damaged central directory")
        raw = data[at + _ENTRY.size:at + _ENTRY.size + name_len]
        name = raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        extra = data[at + _ENTRY.size + name_len:at + _ENTRY.size + name_len + extra_len]
        size, compressed, offset = _zip64(extra, size, compressed, offset)
        members.append(Member(name, method, crc, compressed, size, offset))
        at += _ENTRY.size + name_len + extra_len + comment_len
    return members


def _zip64(extra: bytes, size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    """The zip64 extra field's values, for those the header marks as 0xFFFFFFFF."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, at)
        if kind == 1:
            values = list(struct.unpack_from(f"<{length // 8}Q", extra, at + 4))
            if size == 0xFFFFFFFF and values:
                size = values.pop(0)
            if compressed == 0xFFFFFFFF and values:
                compressed = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        at += 4 + length
    return size, compressed, offset


def _inflate(member: Member, data: bytes) -> bytes:
    if member.method == 0:
        out = data
    elif member.method == 8:
        inflater = zlib.decompressobj(-15)
        try:
            out = inflater.decompress(data, member.size + 1)
        except zlib.error:
            raise NotAZip(f"{member.name} does not inflate") from None
    else:
        raise NotAZip(f"{member.name} is compressed with method {member.method}")
    if len(out) != member.size or zlib.crc32(out) != member.crc:
        raise NotAZip(f"{member.name} does not match its CRC-32 and size")
    return out
