"""An upload's size measured before it is read whole, so a hostile file is refused in bounded memory.

    peek.header_columns(raw, ",")        # columns of a CSV's header row, counted on its bytes
    peek.data_lines(raw)                 # rows under the header, when a plain count is exact (no quotes)
    peek.zip_entries(raw, cap)           # entries of a ZIP's central directory, walked without building them
    peek.read_entry(archive, info, cap)  # one archive entry, read no further than cap + 1 bytes

pandas builds every column of a header before it can refuse a million of them, and zipfile
builds an object per entry before any can be counted; these look first, in time and memory
proportional to what they look at. uploads.py decides what to refuse.
"""
from __future__ import annotations

import re
import struct
import zipfile

QUOTED = re.compile(rb'"[^"]*"')     # a quoted CSV cell ("" inside one is two quoted cells back to back)
END_OF_DIRECTORY = b"PK\x05\x06"     # a ZIP's last record: where its central directory is
END_OF_DIRECTORY64 = b"PK\x06\x06"   # the same for a ZIP64 archive (56 bytes), just before its locator (20)
LOCATOR64 = b"PK\x06\x07"
DIRECTORY_ENTRY = b"PK\x01\x02"      # one entry of the central directory: 46 bytes, then name, extra, comment


def header_columns(raw: bytes, sep: str) -> int:
    """The number of cells in the first line of a CSV (separators inside quotes do not count)."""
    end = raw.find(b"\n")
    header = raw[:end if end >= 0 else len(raw)]
    if b'"' in header:
        header = QUOTED.sub(b"", header)
    return header.count(sep.encode("ascii")) + 1


def data_lines(raw: bytes) -> int | None:
    """Lines under the header, or None where a quoted cell could hold a line break (then only a parser knows)."""
    if b'"' in raw:
        return None
    return raw.count(b"\n") - raw.endswith(b"\n")


def zip_entries(raw: bytes, cap: int) -> int | None:
    """How many entries the ZIP's central directory holds (counting stops past `cap`); None if it has none."""
    end = raw.rfind(END_OF_DIRECTORY, max(0, len(raw) - 22 - 65_535))
    if end < 0 or end + 22 > len(raw):
        return None
    size, = struct.unpack_from("<I", raw, end + 12)
    start = end - size
    end64 = end - 20 - 56
    if end64 >= 0 and raw[end - 20:end - 16] == LOCATOR64 and raw[end64:end64 + 4] == END_OF_DIRECTORY64:
        size, = struct.unpack_from("<Q", raw, end64 + 40)
        start = end64 - size
    count, pos, stop = 0, max(start, 0), min(max(start, 0) + size, len(raw))
    while pos + 46 <= stop and raw[pos:pos + 4] == DIRECTORY_ENTRY and count <= cap:
        name, extra, comment = struct.unpack_from("<HHH", raw, pos + 28)
        pos += 46 + name + extra + comment
        count += 1
    return count


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes | None:
    """The entry's bytes, or None if it declares or unpacks to more than `cap` bytes."""
    if info.file_size > cap:
        return None
    with archive.open(info) as f:
        data = f.read(cap + 1)
    return data if len(data) <= cap else None
