"""Small media files made in memory for the media-information tests: images (Pillow) and a WAV tone."""

import io
import wave


def image_bytes(fmt, size=(64, 48), mode="RGB", exif=None):
    """An image of ``size`` in ``fmt`` (``PNG``, ``JPEG``, ``GIF``...), with ``exif`` (``PIL.Image.Exif``) if given."""
    from PIL import Image  # the caller has checked Pillow is there (pytest.importorskip)

    out = io.BytesIO()
    picture = Image.new(mode, size)
    picture.save(out, fmt, **({"exif": exif.tobytes()} if exif is not None else {}))
    return out.getvalue()


def wav_bytes(seconds=0.5, rate=8000):
    """A mono 16-bit WAV of ``seconds`` at ``rate``."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        sound.writeframes(b"\x00\x01" * int(seconds * rate))
    return out.getvalue()
