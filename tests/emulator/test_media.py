"""Media information on the download URL over raw HTTP (reference 7.5): ``?op=imageInfo`` and ``?op=exif``
decoded by Pillow, ``?op=avinfo``/``avinfo2`` by ffprobe when one is installed, and the refusals: not a
media file, decoder missing, unknown op, missing object."""

import shutil
import sys

import pytest
import requests

from tests.helpers.media import image_bytes, wav_bytes
from wcs.commons.util import entry

Image = pytest.importorskip("PIL.Image", reason="Pillow (the emulator extra) decodes images")


def op(api, bucket, key, name):
    return requests.get("%s/%s/%s" % (api.url, bucket, key), params={"op": name})


def test_image_info_of_png_jpeg_and_gif(api, bucket):
    api.put(bucket, "p.png", image_bytes("PNG", (64, 48), "RGBA"))
    api.put(bucket, "j.jpg", image_bytes("JPEG", (30, 20), "RGB"))
    api.put(bucket, "g.gif", image_bytes("GIF", (5, 7), "P"))
    png = op(api, bucket, "p.png", "imageInfo")
    assert png.status_code == 200, png.text
    size = api.mgr("GET", "/stat/" + entry(bucket, "p.png")).json()["fsize"]
    assert png.json() == {"format": "png", "width": 64, "height": 48, "colorModel": "rgba", "size": size}
    assert op(api, bucket, "j.jpg", "imageInfo").json()["format"] == "jpeg"
    assert op(api, bucket, "j.jpg", "imageInfo").json()["colorModel"] == "rgb"
    gif = op(api, bucket, "g.gif", "imageInfo").json()
    assert (gif["format"], gif["width"], gif["height"], gif["colorModel"]) == ("gif", 5, 7, "palette")


def test_exif(api, bucket):
    exif = Image.Exif()
    exif[0x010F] = "Emulator Camera Co"      # Make
    exif[0x0132] = "2024:01:02 03:04:05"     # DateTime
    exif[0x0112] = 6                         # Orientation
    api.put(bucket, "e.jpg", image_bytes("JPEG", exif=exif))
    resp = op(api, bucket, "e.jpg", "exif")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["Make"] == {"val": "Emulator Camera Co", "type": 2}
    assert body["DateTime"] == {"val": "2024:01:02 03:04:05", "type": 2}
    assert body["Orientation"] == {"val": "6", "type": 3}
    api.put(bucket, "plain.jpg", image_bytes("JPEG"))
    none = op(api, bucket, "plain.jpg", "exif")
    assert none.status_code == 400 and "no EXIF" in none.json()["message"]


def test_refusals(api, bucket, monkeypatch, tmp_path):
    api.put(bucket, "notes.txt", b"just words, not pixels")
    for name in ("imageInfo", "exif"):
        resp = op(api, bucket, "notes.txt", name)
        assert resp.status_code == 400 and resp.json()["message"].startswith("Not A Media File"), resp.text
    unknown = op(api, bucket, "notes.txt", "imageView2")
    assert unknown.status_code == 400 and "not supported" in unknown.json()["message"]
    assert op(api, bucket, "missing.png", "imageInfo").status_code == 404
    assert op(api, "no-such-bucket", "x.png", "imageInfo").status_code == 404
    # without ffprobe on PATH, avinfo says what is missing
    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ("avinfo", "avinfo2"):
        resp = op(api, bucket, "notes.txt", name)
        assert resp.status_code == 400 and "ffprobe" in resp.json()["message"]


def test_without_pillow_the_emulator_says_so(api, bucket, monkeypatch):
    api.put(bucket, "p.png", image_bytes("PNG"))
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    resp = op(api, bucket, "p.png", "imageInfo")
    assert resp.status_code == 400 and "needs Pillow" in resp.json()["message"]
    assert requests.get("%s/%s/p.png" % (api.url, bucket)).status_code == 200  # downloads are unaffected


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (FFmpeg) is not installed")
def test_avinfo_with_ffprobe(api, bucket):
    data = wav_bytes()
    api.put(bucket, "tone.wav", data)
    for name in ("avinfo", "avinfo2"):
        resp = op(api, bucket, "tone.wav", name)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        (stream,) = body["streams"]
        assert stream["codec_type"] == "audio" and stream["sample_rate"] == "8000" and stream["channels"] == 1
        assert body["format"]["format_name"] == "wav" and body["format"]["size"] == str(len(data))
        assert float(body["format"]["duration"]) == pytest.approx(0.5, abs=0.01)
    api.put(bucket, "noise.bin", b"\x00\x17 definitely not media " * 10)
    assert op(api, bucket, "noise.bin", "avinfo").status_code == 400
