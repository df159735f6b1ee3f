"""Trino's from_utf8(): invalid UTF-8 sequences become U+FFFD, each invalid sequence measured as
Trino's UTF-8 decoder (airlift's SliceUtf8.tryGetCodePointAt) measures it, so the local engine gives
the same text for the same bytes. Registered in DuckDB as a Python function."""

REPLACEMENT = "\ufffd"


def _start_length(byte: int) -> int:
    if byte < 0x80:
        return 1
    if byte < 0xC0:
        return -1
    for limit, length in ((0xE0, 2), (0xF0, 3), (0xF8, 4), (0xFC, 5), (0xFE, 6)):
        if byte < limit:
            return length
    return -1


def _is_continuation(byte: int) -> bool:
    return byte & 0xC0 == 0x80


def code_point_at(data: bytes, position: int) -> int:
    """The code point at `position`, or minus the length of the invalid sequence there."""
    first = data[position]
    length = _start_length(first)
    if length < 0:
        return length
    if length == 1:
        return first
    masks = {2: 0x1F, 3: 0x0F, 4: 0x07}
    code_point = first & masks.get(length, 0)
    for index in range(1, min(length, 4) + (1 if length > 4 else 0)):
        if position + index >= len(data) or not _is_continuation(data[position + index]):
            return -index
        if index < 4:
            code_point = (code_point << 6) | (data[position + index] & 0x3F)
        if index == length - 1:
            break
    if length == 2:
        return -2 if code_point < 0x80 else code_point
    if length == 3:
        if 0xD800 <= code_point <= 0xDFFF or code_point < 0x800:
            return -3
        return code_point
    if length == 4:
        return code_point if 0x10000 <= code_point < 0x110000 else -4
    # 5- and 6-byte forms are illegal (RFC 3629): the invalid sequence spans what was read.
    for index in range(4, length):
        if position + index >= len(data) or not _is_continuation(data[position + index]):
            return -index
    return -length


def from_utf8(data: bytes) -> str:
    out, position = [], 0
    while position < len(data):
        code_point = code_point_at(data, position)
        if code_point >= 0:
            out.append(chr(code_point))
            position += len(chr(code_point).encode("utf-8", "surrogatepass"))
        else:
            out.append(REPLACEMENT)
            position += -code_point
    return "".join(out)
