"""Citizen photos: the stored copy carries no EXIF GPS or device data; fakes and bombs are refused."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from layers.incidents.models import Case, Photo
from tests.factories import small_tree
from tests.factories_incidents import make_category

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]
URL = "/api/v1/incidents/"


def jpeg_with_gps() -> bytes:
    """A JPEG whose EXIF names a camera (Make/Model/serial) and a GPS position, rotated by Orientation 6."""
    image = Image.new("RGB", (40, 20), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X1"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0xA431] = "SERIAL-123456"  # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (28.0, 52.0, 18.0)
    gps[3], gps[4] = "E", (105.0, 26.0, 33.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_exif_gps_and_device_data_do_not_reach_the_stored_copy(api):
    small_tree()
    make_category("0101")
    raw = jpeg_with_gps()
    assert b"PhoneMaker" in raw and Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the input has them
    upload = SimpleUploadedFile("gps.jpg", raw, content_type="image/jpeg")
    response = api.post(
        URL, {"category": "0101", "lon": "105.41", "lat": "28.93", "photos": [upload]}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get(case_id=response.json()["id"])
    stored = photo.image.read()
    assert b"PhoneMaker" not in stored and b"SERIAL-123456" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()  # no tags at all, GPS IFD included
        assert image.size == (20, 40)  # Orientation 6 applied to the pixels: 40×20 stands up as 20×40
    assert (photo.width, photo.height) == (20, 40)


def test_png_text_chunks_are_dropped(api):
    small_tree()
    make_category("0101")
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "citizen phone 13800000000")
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG", pnginfo=info)
    assert b"13800000000" in buffer.getvalue()
    upload = SimpleUploadedFile("t.png", buffer.getvalue(), content_type="image/png")
    response = api.post(
        URL, {"category": "0101", "lon": "105.41", "lat": "28.93", "photos": [upload]}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert b"13800000000" not in Photo.objects.get(case_id=response.json()["id"]).image.read()


def test_decompression_bomb_is_refused_from_its_header(api, settings):
    """A 20,000 × 20,000 PNG of one colour compresses to a few hundred KB but would take 1.2 GB decoded."""
    small_tree()
    make_category("0101")
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < settings.GRIDGIS["PHOTO_MAX_BYTES"]
    upload = SimpleUploadedFile("bomb.png", buffer.getvalue(), content_type="image/png")
    before = Case.objects.count(), Photo.objects.count()
    response = api.post(
        URL, {"category": "0101", "lon": "105.41", "lat": "28.93", "photos": [upload]}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("photos:")
    assert "pixels" in response.json()["detail"] or "not a readable" in response.json()["detail"]
    assert (Case.objects.count(), Photo.objects.count()) == before
