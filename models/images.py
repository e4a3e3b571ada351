"""Reading and writing photos with clear errors.

Everything a user hands us goes through ``load_image``: it refuses non-images,
truncated files and decompression bombs with one readable message, applies the
EXIF orientation, and converts every mode (16-bit, CMYK, palette, alpha,
greyscale) to 8-bit RGB.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from ..errors import ImageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}  # what a folder of photos is read for
MAX_PIXELS = 60_000_000  # about 60 megapixels; larger images are refused, not decoded


def _decode(data: bytes, source: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    max_pixels = min(max_pixels, MAX_PIXELS)
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.width * im.height > max_pixels:  # read from the header: nothing is decoded
                    raise ImageError(
                        f"{source}: image is too large ({im.width}x{im.height}); the limit is {max_pixels / 1_000_000:g} megapixels"
                    )
                im.load()
                upright = ImageOps.exif_transpose(im)
                rgb = _to_rgb(upright)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{source}: image is too large to decode safely ({exc})") from None
    except UnidentifiedImageError:
        raise ImageError(f"{source}: not an image file (or a format that cannot be read)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{source}: broken or truncated image ({exc})") from None
    if rgb.shape[0] < 32 or rgb.shape[1] < 32:
        raise ImageError(f"{source}: image is too small ({rgb.shape[1]}x{rgb.shape[0]})")
    return rgb


def _to_rgb(im) -> np.ndarray:
    from PIL import Image

    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        hi = arr.max() if arr.size else 1.0
        scale = 65535.0 if hi > 255 else 255.0
        arr8 = np.clip(arr / scale * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(arr8[..., None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im)
    return np.array(im.convert("RGB"), dtype=np.uint8)


def load_image(path: str | Path, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read a photo from disk as uint8 RGB, or raise ImageError with a clear message."""
    p = Path(path)
    if not p.exists():
        raise ImageError(f"{p}: no such file")
    if not p.is_file():
        raise ImageError(f"{p}: not a file")
    return _decode(p.read_bytes(), str(p), max_pixels)


def decode_image_bytes(data: bytes, source: str = "image", *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    return _decode(data, source, max_pixels)


def encode_png(image: np.ndarray, compress_level: int = 1, text: dict[str, str] | None = None) -> bytes:
    """PNG bytes of ``image``; ``text``: tEXt chunks written before the pixels (png_text reads them without decoding)."""
    from PIL import Image, PngImagePlugin

    info = None
    if text:
        info = PngImagePlugin.PngInfo()
        for k, v in text.items():
            info.add_text(k, v)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=compress_level, pnginfo=info)
    return buf.getvalue()


def fit_within(image: np.ndarray, longest: int) -> np.ndarray:
    """``image`` shrunk (never enlarged, area-averaged) so that its longest side is at most ``longest`` pixels."""
    import cv2

    scale = longest / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def photo_chroma(region: np.ndarray, side: int = 256) -> float:
    """How colourful a photo region gets: the 99.5th percentile of its CIE Lab chroma, measured at ``side`` px at
    most (the engine keeps a lipstick within it; the realism check counts colours beyond it)."""
    import cv2

    lab = cv2.cvtColor(fit_within(region, side).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return float(np.percentile(np.hypot(lab[..., 1], lab[..., 2]), 99.5))


def png_text(data: bytes) -> dict[str, str]:
    """The text chunks of a PNG that come before its pixels ({} for any other image)."""
    from PIL import Image

    if not data.startswith(b"\x89PNG"):
        return {}
    with Image.open(io.BytesIO(data)) as im:
        return {k: v for k, v in im.info.items() if isinstance(k, str) and isinstance(v, str)}


def save_image(image: np.ndarray, path: str | Path, *, overwrite: bool = False) -> None:
    """Write ``image`` to ``path`` (PNG or JPEG by its suffix) whole or not at all.

    The file is written under a temporary name in the same folder, then moved into place: with ``overwrite`` it
    replaces what is there; without, it is linked in exclusively, so of two writers to one new name one succeeds
    and the other gets FileExistsError, and nobody ever reads a half-written file.
    """
    import os
    import tempfile

    from PIL import Image

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".chatface-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            Image.fromarray(image).save(f, format=_FORMATS.get(path.suffix.lower(), "PNG"))
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # FileExistsError when the name is taken
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}
