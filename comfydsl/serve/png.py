"""Small placeholder PNG images, written with zlib and struct only."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def placeholder_png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (128, 128, 128)) -> bytes:
    """A valid 8-bit RGB PNG of one flat colour.

    Every decoder reads it: a signature, an IHDR chunk, one zlib-compressed IDAT chunk
    (each scanline has filter byte 0) and IEND.
    """
    if width < 1 or height < 1:
        raise ValueError("a PNG needs a width and a height of at least 1")
    if not all(0 <= c <= 255 for c in rgb):
        raise ValueError("colour components run from 0 to 255")
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(rgb) * width
    pixels = zlib.compress(row * height, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def colour_for(index: int) -> tuple[int, int, int]:
    """A distinct, stable colour per image index, so placeholder images differ."""
    return ((53 * index + 90) % 256, (97 * index + 160) % 256, (193 * index + 40) % 256)
