"""Render the application icon into the hicolor PNG sizes, a Windows .ico and a macOS .icns."""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Runs from a checkout before the package is installed, so the app id comes from the source tree.
sys.path.insert(0, str(ROOT))

from ofa_manager import APP_ID  # noqa: E402

RESOURCES = ROOT / "resources"
SOURCE_SVG = RESOURCES / f"{APP_ID}.svg"
# Drawn on a 16 px grid: the full drawing turns to mush below 32 px.
SMALL_SVG = ROOT / "packaging" / "icon-small.svg"
SMALL_UP_TO = 24

HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Type codes that hold PNG data, as Pillow and Apple's iconutil write them; the @2x types let Retina
# screens pick a sharp image.
ICNS_TYPES = (
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic13", 256),
    (b"ic08", 256),
    (b"ic14", 512),
    (b"ic09", 512),
    (b"ic10", 1024),
)


def hicolor_png(size: int, resources: Path = RESOURCES) -> Path:
    """Where the PNG of one size goes in the hicolor tree."""
    return resources / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


class IconRenderer:
    """Renders the icon drawings to PNG bytes, with Qt started offscreen."""

    def __init__(self) -> None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtGui import QGuiApplication
        from PySide6.QtSvg import QSvgRenderer

        # Held so the application outlives every painter.
        self._app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
        self._drawings = {}
        for path in (SOURCE_SVG, SMALL_SVG):
            drawing = QSvgRenderer(str(path))
            if not drawing.isValid():
                raise SystemExit(f"make_icons: {path} is not a valid SVG drawing")
            self._drawings[path] = drawing

    def png(self, size: int) -> bytes:
        """The icon as a square PNG of this many pixels."""
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
        from PySide6.QtGui import QImage, QPainter

        drawing = self._drawings[SMALL_SVG if size <= SMALL_UP_TO else SOURCE_SVG]
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        drawing.render(painter, QRectF(0, 0, size, size))
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG"):
            raise SystemExit(f"make_icons: Qt could not encode the {size} px PNG")
        buffer.close()
        return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows icon holding one PNG per size (PNG entries are read by Windows Vista and later)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for size in sizes:
        data = pngs[size]
        # A width or height byte of 0 stands for 256.
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def icns_bytes(pngs: dict[bytes, bytes]) -> bytes:
    """A macOS icon family: a table of contents, then one PNG element per type code."""
    elements = b"".join(kind + struct.pack(">I", 8 + len(data)) + data for kind, data in pngs.items())
    toc_body = b"".join(kind + struct.pack(">I", 8 + len(data)) for kind, data in pngs.items())
    toc = b"TOC " + struct.pack(">I", 8 + len(toc_body)) + toc_body
    body = toc + elements
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def planned_files() -> dict[Path, bytes]:
    """Every generated file with the bytes it should hold."""
    renderer = IconRenderer()
    cache: dict[int, bytes] = {}

    def png(size: int) -> bytes:
        if size not in cache:
            cache[size] = renderer.png(size)
        return cache[size]

    files = {hicolor_png(size): png(size) for size in HICOLOR_SIZES}
    files[RESOURCES / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"] = SOURCE_SVG.read_bytes()
    files[RESOURCES / f"{APP_ID}.ico"] = ico_bytes({size: png(size) for size in ICO_SIZES})
    files[RESOURCES / f"{APP_ID}.icns"] = icns_bytes({kind: png(size) for kind, size in ICNS_TYPES})
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a generated file is missing or differs from the SVG's rendering",
    )
    args = parser.parse_args(argv)

    stale = []
    for path, data in planned_files().items():
        # Unchanged files are left alone so a build does not touch committed files needlessly.
        if path.is_file() and path.read_bytes() == data:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_bytes(data)
            os.replace(temporary, path)
    verb = "out of date" if args.check else "written"
    for path in stale:
        print(f"{verb}: {path.relative_to(ROOT)}")
    if not stale:
        print("icons are up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
