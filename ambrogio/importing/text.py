"""Reading an uploaded file as text: UTF-8 only (a byte-order mark is allowed).

Spreadsheets saved as "CSV (Windows)" come out in Windows-1252; guessing would turn ``città``
into ``cittÃ `` silently, so a file that is not UTF-8 is refused, naming where it stops being
UTF-8 so that a person can find the offending character.
"""

from __future__ import annotations

import codecs

from ambrogio.errors import UnreadableFile


def decode_utf8(data: bytes) -> str:
    """The file's text; ``UnreadableFile`` when it is empty or not UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data.strip():
        raise UnreadableFile("is empty")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        raise UnreadableFile(
            f"is not UTF-8: byte 0x{byte} at offset {error.start} (line {line}) is not valid "
            "UTF-8; save the file with UTF-8 encoding"
        ) from error
