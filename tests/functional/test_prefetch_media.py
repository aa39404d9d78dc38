"""``Client.prefetch`` from a loopback mirror origin with per-key results, and media information
(``image_info``, ``exif``, ``avinfo``) from the download domain, with their refusals."""

import io
import shutil
from http.server import BaseHTTPRequestHandler

import pytest

from tests.helpers.media import image_bytes, wav_bytes
from tests.helpers.servers import loopback_server
from wcs.commons.answers import PrefetchItem
from wcs.commons.errors import ConfigError, InvalidArgument
from wcs.emulator.state.mirrors import set_mirror

Image = pytest.importorskip("PIL.Image", reason="Pillow (the emulator extra) decodes images")


class OriginHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


def test_prefetch_reports_each_key(client, emulator, bucket):
    assert client.prefetch(bucket, ["a.txt"]).code == 404  # Bucket Not Binding Mirror
    with loopback_server(OriginHandler, files={"/a.txt": b"alpha", "/dir/b%20c.bin": b"beta"}) as origin:
        url = "http://127.0.0.1:%d" % origin.server_address[1]
        set_mirror(emulator.data_dir, bucket, url)
        try:
            result = client.prefetch(bucket, ["a.txt", "dir/b c.bin", "missing.txt"])
        finally:
            set_mirror(emulator.data_dir, bucket, None)
    assert result.code == 200 and result.data["bucket"] == bucket
    items = PrefetchItem.list_from(result.data)
    assert [(item.key, item.code, item.ok) for item in items] == [
        ("a.txt", 200, True), ("dir/b c.bin", 200, True), ("missing.txt", 404, False)]
    assert items[1].mirror_address == url + "/dir/b%20c.bin" and items[0].message == "OK"
    out = io.BytesIO()
    client.download_fileobj(bucket, "dir/b c.bin", out).raise_for_status()
    assert out.getvalue() == b"beta"
    assert client.stat(bucket, "missing.txt").code == 404
    for bad in ([], [""], "", ["ok", ""]):
        with pytest.raises(InvalidArgument):
            client.prefetch(bucket, bad)


def put(client, bucket, key, data):
    client.upload_fileobj(io.BytesIO(data), bucket, key, size=len(data)).raise_for_status()


def test_image_info_and_exif(client, bucket, config):
    put(client, bucket, "p.png", image_bytes("PNG", (32, 24), "RGBA"))
    info = client.image_info(bucket, "p.png")
    assert info.code == 200
    assert (info.data["format"], info.data["width"], info.data["height"], info.data["colorModel"]) == (
        "png", 32, 24, "rgba")
    assert client.imageInfo(bucket, "p.png").data == info.data  # the vendor SDKs' name
    exif = Image.Exif()
    exif[0x010F] = "Camera Co"
    put(client, bucket, "e.jpg", image_bytes("JPEG", (32, 24), exif=exif))
    assert client.exif(bucket, "e.jpg").data["Make"] == {"val": "Camera Co", "type": 2}
    no_exif = client.exif(bucket, "p.png")
    assert no_exif.code == 400 and "EXIF" in no_exif.message
    put(client, bucket, "notes.txt", b"words, not pixels")
    refused = client.image_info(bucket, "notes.txt")
    assert refused.code == 400 and refused.message.startswith("Not A Media File")
    assert client.image_info(bucket, "missing.png").code == 404
    from wcs.services.client import Client

    with Client(config.replace(download_url="")) as without:
        with pytest.raises(ConfigError, match="download_url"):
            without.image_info(bucket, "p.png")


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (FFmpeg) is not installed")
def test_avinfo_and_avinfo2(client, bucket):
    put(client, bucket, "tone.wav", wav_bytes(0.25))
    for call in (client.avinfo, client.avinfo2, client.avInfo, client.avInfo2):
        result = call(bucket, "tone.wav")
        assert result.code == 200, result
        (stream,) = result.data["streams"]
        assert stream["codec_type"] == "audio" and result.data["format"]["format_name"] == "wav"
    put(client, bucket, "noise.bin", b"\x00\x17 not media " * 10)
    assert client.avinfo(bucket, "noise.bin").message.startswith("Not A Media File")
