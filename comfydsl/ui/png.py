"""The workflow texts ComfyUI embeds in the images it saves (standard library only).

- PNG (`SaveImage`): `tEXt` chunks `prompt` (API JSON) and `workflow` (UI JSON); `iTXt` and
  `zTXt` chunks with the same keywords are read too (other tools rewrite them so).
- WebP (`SaveAnimatedWEBP`) and others: an EXIF block whose ASCII entries hold `prompt:{...}`
  and `workflow:{...}` (tag 0x0110 for the prompt, 0x010F downwards for the extra info), and
  an XMP packet carrying the same `key:json` texts, which some tools write instead.
"""

from __future__ import annotations

import re
import struct
import zlib

from ..errors import ImageMetadataError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYS = ("prompt", "workflow")



def image_kind(data: bytes) -> str | None:
    """`png`, `webp`, or None for bytes that are neither."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def read_image_metadata(data: bytes) -> dict[str, str]:
    """`{"prompt": text, "workflow": text}` (the keys present) from PNG or WebP bytes.

    Raises ImageMetadataError when the bytes are neither, or the container is cut short.
    """
    kind = image_kind(data)
    if kind == "png":
        return _png(data)
    if kind == "webp":
        return _webp(data)
    raise ImageMetadataError("not a PNG or WebP image")


def _png(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) < length:
            raise ImageMetadataError(f"PNG chunk `{ctype.decode('latin-1')}` at byte {pos} is cut short")
        pos += 12 + length
        if ctype == b"IEND":
            break
        found = _png_text(ctype, body)
        if found and found[0] in KEYS and found[0] not in out:
            out[found[0]] = found[1]
    return out


def _png_text(ctype: bytes, body: bytes) -> tuple[str, str] | None:
    try:
        if ctype == b"tEXt":
            key, _, text = body.partition(b"\0")
            return key.decode("latin-1"), text.decode("latin-1")
        if ctype == b"zTXt":
            key, _, rest = body.partition(b"\0")
            return key.decode("latin-1"), zlib.decompress(rest[1:]).decode("latin-1")
        if ctype == b"iTXt":
            key, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            raw = zlib.decompress(text) if compressed else text
            return key.decode("latin-1"), raw.decode("utf-8")
    except (zlib.error, UnicodeDecodeError, IndexError):
        return None
    return None


def _webp(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 12
    end = min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    while pos + 8 <= end:
        ctype, size = struct.unpack("<4sI", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        if len(body) < size:
            raise ImageMetadataError(f"WebP chunk `{ctype.decode('latin-1')}` at byte {pos} is cut short")
        pos += 8 + size + (size & 1)
        if ctype == b"EXIF":
            texts = _exif_texts(body)
        elif ctype == b"XMP ":
            texts = _xmp_texts(body)
        else:
            continue
        for text in texts:
            key, sep, value = text.partition(":")
            if sep and key in KEYS and key not in out:
                out[key] = value
    return out


def _exif_texts(body: bytes) -> list[str]:
    """The ASCII values of the first IFD of a TIFF-structured EXIF block."""
    if body.startswith(b"Exif\0\0"):
        body = body[6:]
    if body[:2] == b"II":
        order = "<"
    elif body[:2] == b"MM":
        order = ">"
    else:
        return []
    try:
        (ifd,) = struct.unpack(order + "I", body[4:8])
        (count,) = struct.unpack(order + "H", body[ifd:ifd + 2])
        texts = []
        for i in range(count):
            entry = body[ifd + 2 + 12 * i: ifd + 14 + 12 * i]
            tag, kind, n, offset = struct.unpack(order + "HHII", entry)
            if kind != 2:  # ASCII
                continue
            raw = entry[8:8 + n] if n <= 4 else body[offset:offset + n]
            texts.append(raw.rstrip(b"\0").decode("utf-8", "replace"))
        return texts
    except struct.error:
        return []


def _xmp_texts(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace")
    found = re.findall(r">\s*((?:prompt|workflow):\{.*?\})\s*<", text, flags=re.S)
    import html

    return [html.unescape(t) for t in found]
