"""The app's icons, drawn by the project with Pillow (no binary committed): a grid on the brand blue
with a yellow location dot, as PNG in the sizes the manifest lists. Maskable: the drawing keeps to the
central 80 % safe zone."""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageDraw

SIZES = (192, 512)
BRAND = (29, 92, 143)
ACCENT = (242, 169, 0)


@functools.lru_cache(maxsize=len(SIZES))
def icon_png(size: int) -> bytes:
    """The icon as PNG bytes, `size` pixels square."""
    if size not in SIZES:
        raise ValueError(f"icon sizes are {SIZES}")
    image = Image.new("RGB", (size, size), BRAND)
    draw = ImageDraw.Draw(image)
    margin, width = size * 0.22, max(2, size // 40)
    span = size - 2 * margin
    for i in range(4):
        offset = margin + span * i / 3
        draw.line([(margin, offset), (size - margin, offset)], fill="white", width=width)
        draw.line([(offset, margin), (offset, size - margin)], fill="white", width=width)
    radius = size * 0.09
    cx, cy = margin + span * 0.62, margin + span * 0.40
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=ACCENT, outline="white", width=width)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
