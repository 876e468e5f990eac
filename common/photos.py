"""Photo checks at the edge: a real JPEG or PNG, within the byte and pixel limits of settings.GRIDGIS.

The stored (public) copy is re-encoded from the pixels alone: EXIF (GPS position, camera make and
serial, time), XMP, IPTC and PNG text chunks are not carried over, so a citizen's photo does not
publish where their phone was or which phone it was. The EXIF orientation is applied to the pixels
first, so the picture still stands upright.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png"}


class PhotoError(ValueError):
    """Why an uploaded file is not an acceptable photo."""


@dataclass(frozen=True)
class CheckedPhoto:
    """A photo that passed the checks; `file` is the clean copy to store (no metadata)."""

    file: ContentFile
    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS[self.format]


def check_photo(upload: UploadedFile) -> CheckedPhoto:
    """Open `upload` with Pillow and refuse anything but an intact JPEG/PNG within the limits.

    The pixel cap is checked from the header, before any decoding, so a decompression bomb is refused
    without being decoded; `verify()` then reads the whole file to catch truncated or corrupt data.
    """
    limits = settings.GRIDGIS
    name = getattr(upload, "name", "photo")
    if upload.size is not None and upload.size > limits["PHOTO_MAX_BYTES"]:
        raise PhotoError(f"{name}: {upload.size} bytes is over the limit of {limits['PHOTO_MAX_BYTES']}")
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if image.format not in ALLOWED_FORMATS:
                raise PhotoError(f"{name}: {image.format} is not accepted; send a JPEG or PNG")
            width, height = image.size
            if width * height > limits["PHOTO_MAX_PIXELS"]:
                raise PhotoError(f"{name}: {width}x{height} pixels is over the limit of {limits['PHOTO_MAX_PIXELS']}")
            image.verify()
            image_format = image.format
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise PhotoError(f"{name}: not a readable JPEG or PNG image ({exc.__class__.__name__})") from exc
    upload.seek(0)
    try:
        clean = strip_metadata(upload, image_format)
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(f"{name}: not a readable JPEG or PNG image ({exc.__class__.__name__})") from exc
    width, height = Image.open(io.BytesIO(clean)).size
    return CheckedPhoto(file=ContentFile(clean, name=name), format=image_format, width=width, height=height)


def strip_metadata(upload, image_format: str) -> bytes:
    """The image's pixels re-encoded in `image_format` with no EXIF/XMP/ICC text, orientation applied."""
    with Image.open(upload) as image:
        upright = ImageOps.exif_transpose(image)
        if image_format == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        buffer = io.BytesIO()
        if image_format == "JPEG":
            upright.save(buffer, format="JPEG", quality=90)
        else:
            upright.save(buffer, format="PNG", optimize=False)
        return buffer.getvalue()
