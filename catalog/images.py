"""Image datasets: a ZIP of PNG or JPEG images, one folder per class (`cat/001.png`), and the
one way an image becomes a model's input (API.md "Image datasets and models").

An upload is checked member by member before it is kept: a path that would leave the archive's
folder, an archive that expands past 10x the tenant's upload limit (counted on the bytes
actually inflated, not on the sizes the archive declares), a member that Pillow cannot decode
completely, or one over MAAS_IMAGE_MAX_PIXELS, is refused with the member's name. Hidden files
and `__MACOSX/` folders (what archivers add) are skipped. The same walk (`image_members`) gives
the members to the worker and to batch jobs, in the same order.
"""

import base64
import binascii
import io
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from django.conf import settings

from catalog.parsing import TableError

FORMATS = ("PNG", "JPEG")
ZIP_MAGIC = b"PK\x03\x04"
_GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "F"})
_CHUNK = 1 << 16


class ImageError(TableError):
    """An image (or the archive holding it) that cannot be used; the message names it."""


@dataclass
class ImageSummary:
    n_rows: int
    columns: list[dict[str, Any]]
    images: dict[str, Any]


def _skipped(name: str) -> bool:
    parts = name.split("/")
    return parts[0] == "__MACOSX" or any(p.startswith(".") and p not in (".", "..") for p in parts)


def _label_of(name: str) -> str:
    """The class folder of a member, or ImageError when its path is not `folder/file`."""
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or ".." in parts or ":" in parts[0]:
        raise ImageError(
            f"Archive member {name!r} has a path that leaves the archive's folder; use "
            "relative paths like cat/001.png."
        )
    if len(parts) < 2 or not parts[-2]:
        raise ImageError(
            f"Archive member {name!r} is not in a class folder; put each image in a folder "
            "named after its class (cat/001.png)."
        )
    return parts[-2]


def image_members(archive: zipfile.ZipFile) -> Iterator[tuple[zipfile.ZipInfo, str]]:
    """(member, class label) of every image of the archive, in name order; raises ImageError
    for a member whose path is not allowed."""
    infos = [i for i in archive.infolist() if not i.is_dir() and not _skipped(i.filename)]
    for info in sorted(infos, key=lambda i: i.filename):
        yield info, _label_of(info.filename)


def _past_budget(info: zipfile.ZipInfo) -> ImageError:
    return ImageError(
        f"Archive member {info.filename!r} takes the archive past 10x your upload limit once "
        "expanded; send a smaller archive."
    )


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """The member's bytes, or ImageError as soon as more than `budget` (or more than one image
    may hold) were inflated: memory stays bounded whatever the archive claims."""
    cap = min(budget, settings.MAAS_IMAGE_MAX_BYTES)
    out = bytearray()
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            out += chunk
            if len(out) > cap:
                if cap == budget:
                    raise _past_budget(info)
                raise ImageError(
                    f"Archive member {info.filename!r} is larger than "
                    f"{settings.MAAS_IMAGE_MAX_BYTES:,} bytes once expanded; no image may be."
                )
    return bytes(out)


def decode_image(data: bytes, where: str):
    """The fully decoded Pillow image, or ImageError saying what is wrong with `where`."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        if image.format not in FORMATS:
            raise ImageError(f"{where} is {image.format or 'not an image'}; send PNG or JPEG.")
        width, height = image.size
        if width * height > settings.MAAS_IMAGE_MAX_PIXELS:
            raise ImageError(
                f"{where} is {width}x{height} pixels, more than the "
                f"{settings.MAAS_IMAGE_MAX_PIXELS:,} allowed; scale it down."
            )
        image.load()  # every pixel: a truncated file fails here, not on the worker
    except ImageError:
        raise
    except Exception as exc:  # Pillow's errors for bad data are many (OSError, SyntaxError...)
        raise ImageError(f"{where} cannot be decoded as PNG or JPEG ({exc}).") from None
    return image


def channels_of(image) -> int:
    return 1 if image.mode in _GRAY_MODES else 3


def image_array(image, size: int, channels: int) -> np.ndarray:
    """A model's input for one image: gray or RGB, resized to size x size (bilinear), scaled
    to [0, 1], float32 of shape (size, size, channels). Training and serving both call it.
    (Conversions and copies are skipped where they would change nothing: per image this runs
    in the predict path.)"""
    from PIL import Image

    mode = "L" if channels == 1 else "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BILINEAR)
    pixels = np.frombuffer(image.tobytes(), dtype=np.uint8)
    return (pixels * np.float32(1 / 255)).reshape(size, size, channels)


def decode_base64_image(value: str, where: str):
    """A predict row's image: base64 (optionally a data: URL) of a PNG or JPEG."""
    if value.startswith("data:"):
        value = value.partition(",")[2]
    if len(value) > settings.MAAS_IMAGE_MAX_BYTES * 4 // 3 + 4:
        raise ImageError(f"{where} is larger than {settings.MAAS_IMAGE_MAX_BYTES:,} bytes.")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError(
            f"{where} is not base64; send the PNG or JPEG file base64-encoded."
        ) from None
    return decode_image(data, where)


def summarize_images(binary: IO[bytes], *, max_expanded: int) -> ImageSummary:
    """Checks every member and describes the dataset; raises ImageError naming the first
    member that cannot be used."""
    try:
        archive = zipfile.ZipFile(binary)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImageError(f"The file is not a readable ZIP archive ({exc}).") from None
    classes: Counter[str] = Counter()
    shapes: Counter[tuple[int, int, int]] = Counter()
    budget = max_expanded
    with archive:
        members = list(image_members(archive))
        declared = 0
        for info, _ in members:  # what the archive claims, before inflating anything
            declared += info.file_size
            if declared > max_expanded:
                raise _past_budget(info)
        for info, label in members:
            try:
                data = _read_bounded(archive, info, budget)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ImageError(
                    f"Archive member {info.filename!r} cannot be read ({exc})."
                ) from None
            budget -= len(data)
            image = decode_image(data, f"Archive member {info.filename!r}")
            classes[label] += 1
            shapes[(*image.size, channels_of(image))] += 1
    n = sum(classes.values())
    if n == 0:
        raise ImageError("The archive holds no images; put PNG or JPEG files in class folders.")
    (width, height, channels), _ = shapes.most_common(1)[0]
    return ImageSummary(
        n_rows=n,
        columns=[
            {"name": "image", "dtype": "image", "distinct": n, "missing": 0},
            {"name": "label", "dtype": "string", "distinct": len(classes), "missing": 0},
        ],
        images={
            "width": width,
            "height": height,
            "channels": channels,
            "classes": dict(sorted(classes.items())),
        },
    )


def archive_images(binary: IO[bytes]) -> Iterator[tuple[str, str, Any]]:
    """(member name, class label, decoded image, or the ImageError saying why it is not) of a
    stored archive, in image_members' order. The archive passed its checks on upload; they run
    again anyway (the cost is the decode), and a member that fails them is reported, not
    raised, so one bad image costs a batch job one row, not the job."""
    with zipfile.ZipFile(binary) as archive:
        for info, label in image_members(archive):
            where = f"Archive member {info.filename!r}"
            try:
                data = _read_bounded(archive, info, settings.MAAS_IMAGE_MAX_BYTES)
                yield info.filename, label, decode_image(data, where)
            except (ImageError, zipfile.BadZipFile, OSError, EOFError) as exc:
                error = exc if isinstance(exc, ImageError) else ImageError(f"{where}: {exc}")
                yield info.filename, label, error
