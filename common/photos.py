"""Photo checks at the edge, cheapest first: a real JPEG or PNG within the limits of settings.GRIDGIS.

Photos are the costliest input an anonymous client can send (a 6300 × 6300 JPEG is 40 megapixels to
decode), so the work is ordered by cost and bounded before it is done:

1. count and byte size of every photo (no reading);
2. every photo's header (format and pixel size, a few hundred bytes; no decoding): each within
   PHOTO_MAX_PIXELS, all of the request's together within PHOTO_MAX_PIXELS_PER_REQUEST;
3. the request's megapixels charged to the client's budget (GRIDGIS THROTTLE_RATES["photo_megapixels"],
   per user or IP): over it, 429 before any decoding;
4. one decode per photo, downscaled: a JPEG is decoded straight at 1/2, 1/4 or 1/8 scale (Pillow's
   draft(), the decoder's own DCT scaling) to at least PHOTO_STORED_MAX_SIDE, then fitted to it.

The callers run the request's cheap checks (category, location) before these.

Two files are kept per photo: the public copy, re-encoded from the pixels alone (EXIF GPS position,
camera make and serial, XMP, IPTC and PNG text are not carried over; the EXIF orientation is applied to
the pixels so the picture still stands upright), and the original bytes as sent, for staff only
(layers/incidents/api/photo_views.py serves both, each to whom may see it).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from common.throttling import CountedRate, TooManyAttempts

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png"}
UNREADABLE = (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError)


class PhotoError(ValueError):
    """Why an uploaded file is not an acceptable photo."""


@dataclass(frozen=True)
class CheckedPhoto:
    """A photo that passed the checks: `file` is the public copy (no metadata), `original` the bytes sent."""

    file: ContentFile
    original: ContentFile
    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS[self.format]


@dataclass(frozen=True)
class Header:
    upload: UploadedFile
    name: str
    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_header(upload: UploadedFile) -> Header:
    """Format and size from the file's header alone (Pillow opens lazily: nothing is decoded)."""
    limits = settings.GRIDGIS
    name = getattr(upload, "name", "photo")
    if upload.size is not None and upload.size > limits["PHOTO_MAX_BYTES"]:
        raise PhotoError(f"{name}: {upload.size} bytes is over the limit of {limits['PHOTO_MAX_BYTES']}")
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image_format, (width, height) = image.format, image.size
    except UNREADABLE as exc:
        raise PhotoError(f"{name}: not a readable JPEG or PNG image ({exc.__class__.__name__})") from exc
    if image_format not in ALLOWED_FORMATS:
        raise PhotoError(f"{name}: {image_format} is not accepted; send a JPEG or PNG")
    if width * height > limits["PHOTO_MAX_PIXELS"]:
        raise PhotoError(f"{name}: {width}x{height} pixels is over the limit of {limits['PHOTO_MAX_PIXELS']}")
    return Header(upload=upload, name=name, format=image_format, width=width, height=height)


def check_photos(uploads: Sequence[UploadedFile], *, request=None) -> list[CheckedPhoto]:
    """All of one request's photos, checked in the order of their cost (see the module's docstring)."""
    limits = settings.GRIDGIS
    if len(uploads) > limits["PHOTO_MAX_COUNT"]:
        raise PhotoError(f"at most {limits['PHOTO_MAX_COUNT']} photos")
    for upload in uploads:
        if upload.size is not None and upload.size > limits["PHOTO_MAX_BYTES"]:
            raise PhotoError(
                f"{getattr(upload, 'name', 'photo')}: {upload.size} bytes is over the limit of {limits['PHOTO_MAX_BYTES']}"
            )
    headers = [read_header(upload) for upload in uploads]
    total = sum(header.pixels for header in headers)
    if total > limits["PHOTO_MAX_PIXELS_PER_REQUEST"]:
        raise PhotoError(
            f"{total:,} pixels in all, over the limit of {limits['PHOTO_MAX_PIXELS_PER_REQUEST']:,} per request"
        )
    charge_pixels(request, total)
    return [decode_once(header) for header in headers]


def check_photo(upload: UploadedFile, *, request=None) -> CheckedPhoto:
    """One photo (an after-photo of a workflow step)."""
    return check_photos([upload], request=request)[0]


def charge_pixels(request, pixels: int) -> None:
    """Count the megapixels about to be decoded against the client's budget; 429 when it is spent."""
    if request is None or not pixels:
        return
    user = getattr(request, "user", None)
    ident = f"user-{user.pk}" if user is not None and user.is_authenticated else None
    budget = CountedRate("photo_megapixels", ident=ident)
    if budget.rate is None:
        return
    wait = budget.refused(request, cost=max(1, math.ceil(pixels / 1_000_000)))
    if wait is not None:
        raise TooManyAttempts(wait, detail=f"photos: too many megapixels from this client; retry in {round(wait)} s")


def decode_once(header: Header) -> CheckedPhoto:
    """The one decode: JPEG at the smallest DCT scale that still gives PHOTO_STORED_MAX_SIDE, then the
    public copy fitted to that side, upright, without metadata."""
    side = settings.GRIDGIS["PHOTO_STORED_MAX_SIDE"]
    upload = header.upload
    upload.seek(0)
    original = upload.read()
    try:
        with Image.open(io.BytesIO(original)) as image:
            if image.format == "JPEG":
                image.draft(image.mode, (side, side))
            image.load()  # truncated or corrupt data fails here
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((side, side))
            if header.format == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
                upright = upright.convert("RGB")
            buffer = io.BytesIO()
            if header.format == "JPEG":
                upright.save(buffer, format="JPEG", quality=90)
            else:
                upright.save(buffer, format="PNG", optimize=False)
            width, height = upright.size
    except UNREADABLE as exc:
        raise PhotoError(f"{header.name}: not a readable JPEG or PNG image ({exc.__class__.__name__})") from exc
    return CheckedPhoto(
        file=ContentFile(buffer.getvalue(), name=header.name),
        original=ContentFile(original, name=header.name),
        format=header.format,
        width=width,
        height=height,
    )
