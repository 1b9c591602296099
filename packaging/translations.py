"""The window's translations: collect its strings into the .ts files, build the .qm files, check them.

    python packaging/translations.py update   # pyside6-lupdate: new strings in, vanished ones out
    python packaging/translations.py build    # pyside6-lrelease: the .qm files, and Qt's own qtbase_*.qm
    python packaging/translations.py check    # exit 1 when a committed .qm is not what its .ts builds

The .ts files (resources/translations/ofa_manager_LANG.ts) are the sources a translator edits, with Qt
Linguist (``pyside6-linguist``) or any text editor; the .qm files beside them are built from them and
committed, so the wheel and the frozen app ship them without a build step. English is the source
language: its .ts holds only the plural forms (``-pluralonly``). Qt's own translation of its standard
buttons and dialogs (qtbase_LANG.qm) is copied from the PySide6 install, whose Essentials wheel has it.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "ofa_manager" / "gui"
FOLDER = ROOT / "resources" / "translations"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "zh_CN")


def tool(name: str) -> str:
    """A PySide6 tool (pyside6-lupdate, pyside6-lrelease) of this interpreter's environment."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: it comes with PySide6 (pip install PySide6-Essentials)")
    return found


def sources() -> list[str]:
    return [str(path.relative_to(ROOT)) for path in sorted(SOURCES.rglob("*.py"))]


def ts_file(language: str) -> Path:
    return FOLDER / f"ofa_manager_{language}.ts"


def update() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        command = [tool("pyside6-lupdate"), *sources(), "-no-obsolete", "-locations", "none"]
        command += ["-source-language", SOURCE_LANGUAGE, "-target-language", language]
        if language == SOURCE_LANGUAGE:
            command.append("-pluralonly")
        subprocess.run([*command, "-ts", str(ts_file(language))], check=True, cwd=ROOT)


def build(into: Path = FOLDER) -> list[Path]:
    """The .qm of each .ts, and Qt's own translations for the same languages; returns the files made."""
    made = []
    for language in LANGUAGES:
        qm = into / f"ofa_manager_{language}.qm"
        subprocess.run(
            [tool("pyside6-lrelease"), "-silent", str(ts_file(language)), "-qm", str(qm)], check=True
        )
        made.append(qm)
    return made


def copy_qt_translations() -> list[Path]:
    """qtbase_LANG.qm from the PySide6 install, for every language but the source one."""
    from PySide6.QtCore import QLibraryInfo

    qt = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
    copied = []
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        source = qt / f"qtbase_{language}.qm"
        if not source.is_file():
            raise SystemExit(f"{source} is missing: this PySide6 install has no Qt translations")
        shutil.copyfile(source, FOLDER / source.name)
        copied.append(FOLDER / source.name)
    return copied


def stale() -> list[str]:
    """The committed .qm files that differ from what their .ts files build (or are missing)."""
    with tempfile.TemporaryDirectory() as scratch:
        built = build(Path(scratch))
        return [
            path.name
            for path in built
            if not (FOLDER / path.name).is_file() or not filecmp.cmp(path, FOLDER / path.name, shallow=False)
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update", "build", "check"])
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    elif args.command == "build":
        for path in [*build(), *copy_qt_translations()]:
            print(path.relative_to(ROOT))
    else:
        wrong = stale()
        if wrong:
            print(f"out of date: {', '.join(wrong)}; run: python packaging/translations.py build")
            return 1
        print("the .qm files match their .ts files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
