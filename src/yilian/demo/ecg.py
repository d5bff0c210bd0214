"""Synthetic ECGs for the demo's referrals: a rhythm strip drawn on ECG paper, as a PNG (what a
family doctor photographs) and as a one-page PDF report (what a hospital sends back). Drawn here,
deterministically, with zlib and struct only: no asset to ship, no real patient's tracing.

The paper is the standard one: 25 mm/s, 10 mm/mV, a 1 mm grid with a heavier line every 5 mm.
"""

from __future__ import annotations

import functools
import math
import random
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

PX_PER_MM: Final = 4
MM_PER_S: Final = 25
MM_PER_MV: Final = 10
SECONDS: Final = 10  # a 10-second strip
HEIGHT_MM: Final = 40

PAPER: Final = (255, 247, 247)
MINOR: Final = (248, 205, 205)
MAJOR: Final = (232, 140, 140)
INK: Final = (24, 24, 32)


@dataclass(frozen=True)
class Tracing:
    """What the strip shows: the heart rate and how far the ST segment is lifted (an infarct)."""

    rate: int = 72  # beats a minute
    st_elevation_mv: float = 0.0
    seed: int = 1


# (centre in s after the beat starts, width in s, height in mV): P, Q, R, S, T.
WAVES: Final = ((0.10, 0.025, 0.15), (0.20, 0.008, -0.10), (0.22, 0.010, 1.20), (0.245, 0.010, -0.25))
T_WAVE: Final = (0.42, 0.045, 0.30)


def _millivolts(t: float, beats: list[float], tracing: Tracing) -> float:
    """The voltage at `t` seconds: the beat it falls in, plus a slow baseline wander."""
    start = max((b for b in beats if b <= t), default=beats[0])
    x = t - start
    v = sum(h * math.exp(-(((x - c) / w) ** 2)) for c, w, h in WAVES)
    c, w, h = T_WAVE
    v += (h + tracing.st_elevation_mv * 0.6) * math.exp(-(((x - c) / w) ** 2))
    if tracing.st_elevation_mv:  # the segment from S to T lifted, rising out of the S wave
        rise = 1 / (1 + math.exp(-(x - 0.255) / 0.006))
        fall = 1 / (1 + math.exp((x - 0.44) / 0.03))
        v += tracing.st_elevation_mv * rise * fall
    return v + 0.04 * math.sin(2 * math.pi * 0.3 * t)


def samples(tracing: Tracing, per_second: int) -> list[float]:
    """The strip's voltages, `per_second` a second, beat times slightly irregular (sinus arrhythmia)."""
    rng = random.Random(tracing.seed)
    period = 60 / tracing.rate
    beats, t = [], 0.05
    while t < SECONDS:
        beats.append(t)
        t += period * rng.uniform(0.96, 1.04)
    return [_millivolts(i / per_second, beats, tracing) for i in range(SECONDS * per_second)]


@functools.cache  # a few tenths of a second each: drawn once a process
def png(tracing: Tracing) -> bytes:
    """The strip as an RGB PNG (1000 × 160 px at 4 px/mm)."""
    width, height = SECONDS * MM_PER_S * PX_PER_MM, HEIGHT_MM * PX_PER_MM
    pixels = bytearray(bytes(PAPER) * (width * height))

    def paint(x: int, y: int, colour: tuple[int, int, int]) -> None:
        if 0 <= x < width and 0 <= y < height:
            at = (y * width + x) * 3
            pixels[at : at + 3] = bytes(colour)

    for mm in range(max(width, height) // PX_PER_MM + 1):
        colour = MAJOR if mm % 5 == 0 else MINOR
        for y in range(height):
            paint(mm * PX_PER_MM, y, colour)
        for x in range(width):
            paint(x, mm * PX_PER_MM, colour)
    baseline = height * 0.6
    ys = [round(baseline - v * MM_PER_MV * PX_PER_MM) for v in samples(tracing, per_second=width // SECONDS)]
    for x, (y, before) in enumerate(zip(ys, [ys[0], *ys], strict=False)):
        for yy in range(min(y, before) - 1, max(y, before) + 1):  # a 2-px pen, joined to the last point
            paint(x, yy, INK)
            paint(x + 1, yy, INK)
    rows = b"".join(b"\x00" + bytes(pixels[r * width * 3 : (r + 1) * width * 3]) for r in range(height))
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            _chunk(b"IDAT", zlib.compress(rows, 9)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# --- the PDF report -------------------------------------------------------------------------------

PT_PER_MM: Final = 72 / 25.4
A4: Final = (595, 842)


def _ucs2(text: str) -> str:
    """Text for the predefined Chinese font (UniGB-UCS2-H): UCS-2 big-endian, in hex."""
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def _strip_path(tracing: Tracing, left: float, top: float) -> Iterator[str]:
    """The grid and the trace as PDF path operators, the strip's top-left corner at (left, top)."""
    width_mm, height_mm = SECONDS * MM_PER_S, HEIGHT_MM
    scale = PT_PER_MM * 0.75  # 75 % of life size, to fit A4's width
    bottom = top - height_mm * scale
    for mm in range(width_mm + 1):
        colour = MAJOR if mm % 5 == 0 else MINOR
        x = left + mm * scale
        yield f"{colour[0] / 255:.3f} {colour[1] / 255:.3f} {colour[2] / 255:.3f} RG 0.3 w"
        yield f"{x:.2f} {bottom:.2f} m {x:.2f} {top:.2f} l S"
    for mm in range(height_mm + 1):
        colour = MAJOR if mm % 5 == 0 else MINOR
        y = bottom + mm * scale
        yield f"{colour[0] / 255:.3f} {colour[1] / 255:.3f} {colour[2] / 255:.3f} RG 0.3 w"
        yield f"{left:.2f} {y:.2f} m {left + width_mm * scale:.2f} {y:.2f} l S"
    per_second = 100
    baseline = bottom + height_mm * 0.4 * scale
    points = [
        (left + i / per_second * MM_PER_S * scale, baseline + v * MM_PER_MV * scale)
        for i, v in enumerate(samples(tracing, per_second))
    ]
    yield "0.094 0.094 0.125 RG 0.8 w"
    yield f"{points[0][0]:.2f} {points[0][1]:.2f} m " + " ".join(f"{x:.2f} {y:.2f} l" for x, y in points[1:])
    yield "S"


@functools.cache
def pdf(tracing: Tracing, *, title: str, lines: tuple[str, ...]) -> bytes:
    """A one-page A4 report: a title, a few lines of findings (Chinese, in the reader's built-in
    Song font, so nothing is embedded) and the strip."""
    text = [f"BT /F1 18 Tf 56 780 Td {_ucs2(title)} Tj ET"]
    text += [f"BT /F1 11 Tf 56 {748 - 18 * i} Td {_ucs2(line)} Tj ET" for i, line in enumerate(lines)]
    top = 740 - 18 * len(lines)
    content = "\n".join([*text, *_strip_path(tracing, 56, top)]).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {A4[0]} {A4[1]}] "
        "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".encode("ascii"),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe5\x8c\xbb\xe8\x81\x94\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
