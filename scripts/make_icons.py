"""Draw the skill's store icons: interaction_model/assets/images/{small,large}-icon.png.

A calm picture, no text: a low sun resting on a bed-like horizon against a dusk-blue sky.
Pure Python (zlib only, no imaging library), so it runs anywhere the project does:

    .venv/bin/python scripts/make_icons.py

Amazon wants PNGs of 108x108 (small) and 512x512 (large); `python -m tools validate` checks both.
Shapes are drawn with a one-pixel soft edge from their signed distance, so they are smooth
without supersampling.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "interaction_model" / "assets" / "images"
SIZES = {"small-icon.png": 108, "large-icon.png": 512}

SKY_TOP = (24, 42, 74)
SKY_BOTTOM = (46, 96, 128)
SUN = (246, 206, 150)
BED = (236, 242, 240)
HORIZON = 0.64  # where the bed's top edge sits, as a share of the height


def _mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[float, ...]:
    t = min(1.0, max(0.0, t))
    return tuple(x + (y - x) * t for x, y in zip(a, b, strict=True))


def _coverage(distance: float, pixel: float) -> float:
    """How much of a pixel lies inside a shape, from the shape's signed distance (negative
    inside), for a soft edge one pixel wide."""
    return min(1.0, max(0.0, 0.5 - distance / pixel))


def _rounded_box(u: float, v: float, left: float, right: float, top: float, bottom: float
                 ) -> float:
    """Signed distance to a box whose shorter side is fully rounded."""
    half_w, half_h = (right - left) / 2, (bottom - top) / 2
    radius = min(half_w, half_h)
    qx = abs(u - (left + half_w)) - (half_w - radius)
    qy = abs(v - (top + half_h)) - (half_h - radius)
    return math.hypot(max(qx, 0.0), max(qy, 0.0)) + min(max(qx, qy), 0.0) - radius


def pixel(u: float, v: float, size: int) -> tuple[int, int, int]:
    p = 1.0 / size
    colour = _mix(SKY_TOP, SKY_BOTTOM, v)
    # The sun: a disc whose lower half hides behind the bed.
    sun = math.hypot(u - 0.5, v - (HORIZON + 0.01)) - 0.23
    colour = _mix(colour, SUN, _coverage(sun, p) * _coverage(v - HORIZON, p))
    # A soft glow around the sun.
    glow = max(0.0, 1.0 - max(0.0, sun) / 0.18) * 0.18 * _coverage(v - HORIZON, p)
    colour = _mix(colour, SUN, glow)
    # The bed: a wide rounded bar, and a pillow at its head.
    bed = _rounded_box(u, v, 0.14, 0.86, HORIZON, HORIZON + 0.08)
    colour = _mix(colour, BED, _coverage(bed, p))
    pillow = _rounded_box(u, v, 0.17, 0.33, HORIZON - 0.05, HORIZON + 0.01)
    colour = _mix(colour, BED, _coverage(pillow, p))
    legs = _rounded_box(u, v, 0.16, 0.2, HORIZON, HORIZON + 0.17)
    colour = _mix(colour, BED, _coverage(legs, p))
    legs = _rounded_box(u, v, 0.8, 0.84, HORIZON, HORIZON + 0.17)
    colour = _mix(colour, BED, _coverage(legs, p))
    return tuple(round(c) for c in colour)  # type: ignore[return-value]


def png(size: int) -> bytes:
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type 0 (none) for every row
        for x in range(size):
            row += bytes(pixel((x + 0.5) / size, (y + 0.5) / size, size))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size in SIZES.items():
        (OUT / name).write_bytes(png(size))
        print(f"wrote {OUT / name} ({size}x{size})")


if __name__ == "__main__":
    main()
