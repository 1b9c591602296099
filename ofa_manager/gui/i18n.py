"""The window's language: which one (the setting, else the system's), Qt's translators, and figures in it.

The window's own words are in ``resources/translations/ofa_manager_LANG.qm`` (made from the ``.ts``
files by ``packaging/translations.py``); Qt's own (standard buttons, file dialogs) in
``qtbase_LANG.qm``, taken from the Qt install and, failing that, from the copy shipped beside ours.
English is the source language: its ``.qm`` holds only the plural forms (``%n file(s)`` → "1 file").
The command line never loads any of this: it stays English.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import humanize
from PySide6.QtCore import QCoreApplication, QDateTime, QLibraryInfo, QLocale, QTranslator

from ofa_manager.core import units
from ofa_manager.core.resources import resources_dir
from ofa_manager.core.settings import LANGUAGES

SOURCE_LANGUAGE = "en"
# Each language by its own name, as the Settings dialog lists them ("" follows the system).
NATIVE_NAMES = {"en": "English", "zh_CN": "简体中文"}
assert set(NATIVE_NAMES) == set(LANGUAGES) - {""}
# The translators this module installs carry this object name, so a second install replaces them.
_TRANSLATOR = "ofa-manager-translator"
# The application property that says which language install() chose.
_LANGUAGE = "ofa-manager-language"


def translations_dir() -> Path:
    return resources_dir() / "translations"


def system_language(locale: QLocale | None = None) -> str:
    """The supported language closest to the system's (its UI languages in order of preference)."""
    locale = locale if locale is not None else QLocale.system()
    for name in locale.uiLanguages():
        wanted = QLocale(name)
        if wanted.language() == QLocale.Language.Chinese:
            # Simplified Chinese is the one translation; a reader of Traditional Chinese reads it more
            # easily than English.
            return "zh_CN"
        if wanted.language() == QLocale.Language.English:
            return "en"
    return SOURCE_LANGUAGE


def choose(setting: str, locale: QLocale | None = None) -> str:
    """The language to use: the setting's when it names one, else the system's."""
    return setting if setting in NATIVE_NAMES else system_language(locale)


def install(language: str, app: QCoreApplication | None = None) -> list[str]:
    """Make ``language`` the window's: translators for ours and Qt's words, numbers, sizes, durations.

    Replaces what an earlier call installed. Returns the translation files loaded (for a test, and for
    a warning when ours is missing from a broken installation).
    """
    app = app or QCoreApplication.instance()
    assert app is not None, "an application is made before its language is installed"
    uninstall(app)
    app.setProperty(_LANGUAGE, language)
    loaded = []
    folders = [translations_dir()]
    qt_folders = [Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)), translations_dir()]
    for name, where in ((f"qtbase_{language}", qt_folders), (f"ofa_manager_{language}", folders)):
        for folder in where:
            translator = QTranslator(app)
            if translator.load(name, str(folder)):
                translator.setObjectName(_TRANSLATOR)
                QCoreApplication.installTranslator(translator)
                loaded.append(str(folder / f"{name}.qm"))
                break
            translator.deleteLater()
    if language != SOURCE_LANGUAGE:
        # Numbers in spin boxes and Qt's own formatting; English keeps the system's conventions.
        QLocale.setDefault(QLocale(language))
        try:
            humanize.i18n.activate(language)
        except FileNotFoundError:
            pass  # humanize has no such locale: its English figures remain
    return loaded


def install_once(setting: str) -> None:
    """The language of the setting (else the system's), unless one was installed already (start-up
    installs it before the window is made; a window made directly, as in the tests, gets it here)."""
    app = QCoreApplication.instance()
    assert app is not None, "an application is made before its window"
    if not app.property(_LANGUAGE):
        install(choose(setting), app)


def uninstall(app: QCoreApplication | None = None) -> None:
    """Back to the source language: the translators removed, the system's number formats."""
    app = app or QCoreApplication.instance()
    if app is None:
        return  # no application: nothing was installed
    for old in app.findChildren(QTranslator, _TRANSLATOR):
        QCoreApplication.removeTranslator(old)
        old.setObjectName("")
        old.deleteLater()
    QLocale.setDefault(QLocale.system())
    humanize.i18n.deactivate()
    app.setProperty(_LANGUAGE, None)


def current_language() -> str:
    """The language install() made the window's (the source language before any call)."""
    app = QCoreApplication.instance()
    language = app.property(_LANGUAGE) if app is not None else None
    return language or SOURCE_LANGUAGE


def size_text(num_bytes: int | float | None) -> str:
    """'1.8 GiB' in the window's language; 'unknown' translated."""
    if num_bytes is None:
        return QCoreApplication.translate("units", "unknown")
    if abs(num_bytes) < 1024:  # humanize names bytes in English whatever its language
        if num_bytes == 1:
            return QCoreApplication.translate("units", "1 Byte")
        return QCoreApplication.translate("units", "{count} Bytes").format(count=int(num_bytes))
    return units.size(num_bytes)


def rate_text(bytes_per_second: float | None) -> str:
    if not bytes_per_second:
        return "—"
    return QCoreApplication.translate("units", "{size}/s").format(size=units.size(bytes_per_second))


def duration_text(seconds: float | None) -> str:
    """'2 min', '1 h 5 min', '12 s', in the window's language (the same steps as core.units.duration)."""
    if seconds is None or seconds != seconds or seconds < 0:
        return QCoreApplication.translate("units", "unknown")
    seconds = int(round(seconds))
    if seconds < 60:
        return QCoreApplication.translate("units", "{s} s").format(s=seconds)
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        if minutes >= 10 or not seconds:
            return QCoreApplication.translate("units", "{m} min").format(m=minutes)
        return QCoreApplication.translate("units", "{m} min {s} s").format(m=minutes, s=seconds)
    hours, minutes = divmod(minutes, 60)
    return QCoreApplication.translate("units", "{h} h {m} min").format(h=hours, m=minutes)


def percent_text(fraction: float, *, rounded: bool = False) -> str:
    """'42 %': progress is cut down (100 % only when done); a share is rounded."""
    value = round(100 * fraction) if rounded else int(100 * fraction)
    return QCoreApplication.translate("units", "{percent} %").format(percent=value)


def moment_text(stamp: str | None) -> str:
    """A time stamp of the records (``2026-11-30T17:42:06+0000``) as the window's language writes a
    date and time, in local time; anything else as it is."""
    try:
        when = datetime.strptime(stamp or "", "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return stamp or ""
    if current_language() == SOURCE_LANGUAGE:
        return when.astimezone().strftime("%Y-%m-%d %H:%M")  # unambiguous whatever the system's locale
    moment = QDateTime.fromSecsSinceEpoch(int(when.timestamp()))
    return QLocale().toString(moment, QLocale.FormatType.ShortFormat)
