"""The translation files: complete, current with the code, faithful to the placeholders, and built.

The .ts files are what a translator edits (packaging/translations.py update|build); these tests fail
when a string of the window is not in them, when one is left unfinished or vanished, when a translation
loses or invents a placeholder, or when a committed .qm is not what its .ts builds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "resources" / "translations"
sys.path.insert(0, str(ROOT / "packaging"))

import translations  # noqa: E402  (packaging/translations.py)

# {name}, {seconds:.0f}, %n, %1: what the code fills in; a translation must keep exactly these.
PLACEHOLDER = re.compile(r"\{[a-z_]*(?::[^}]*)?\}|%n|%\d")


def messages(path: Path):
    """(context, message element) for every message of a .ts file."""
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            yield name, message


def texts(message) -> list[str]:
    translation = message.find("translation")
    forms = translation.findall("numerusform")
    return [form.text or "" for form in forms] if forms else [translation.text or ""]


@pytest.mark.parametrize("language", translations.LANGUAGES)
def test_every_entry_is_finished_and_keeps_its_placeholders(language):
    path = translations.ts_file(language)
    entries = list(messages(path))
    assert entries, path
    problems = []
    for context, message in entries:
        source = message.findtext("source")
        kind = message.find("translation").get("type")
        if kind in ("unfinished", "vanished", "obsolete"):
            problems.append(f"{kind}: {context}: {source!r}")
            continue
        forms = texts(message)
        wanted = 2 if language == "en" else 1  # English: one and other; Chinese has a single form
        if message.get("numerus") == "yes" and len(forms) != wanted:
            problems.append(f"{len(forms)} plural forms: {context}: {source!r}")
        for text in forms:
            if not text.strip() and source.strip():
                problems.append(f"empty: {context}: {source!r}")
            if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(source)):
                problems.append(f"placeholders differ: {context}: {source!r} → {text!r}")
    assert not problems, "\n".join(problems)


def test_chinese_has_every_string_of_the_window(tmp_path):
    """lupdate run over today's code finds nothing the committed .ts lacks, and nothing it no longer has."""
    for language in translations.LANGUAGES:
        copy = tmp_path / translations.ts_file(language).name
        shutil.copyfile(translations.ts_file(language), copy)
        command = [translations.tool("pyside6-lupdate"), *translations.sources(), "-locations", "none"]
        if language == translations.SOURCE_LANGUAGE:
            command.append("-pluralonly")
        subprocess.run([*command, "-ts", str(copy)], check=True, cwd=ROOT, capture_output=True)
        stale = [
            f"{message.find('translation').get('type')}: {context}: {message.findtext('source')!r}"
            for context, message in messages(copy)
            if message.find("translation").get("type") in ("unfinished", "vanished", "obsolete")
        ]
        assert not stale, f"{language}: run python packaging/translations.py update, then translate:\n" + (
            "\n".join(stale)
        )


def test_committed_qm_files_are_built_from_the_ts_files():
    assert translations.stale() == []


def test_qt_own_chinese_is_shipped_beside_ours():
    """Qt's standard buttons and dialogs in Chinese, even where the Qt install has no translations."""
    qtbase = FOLDER / "qtbase_zh_CN.qm"
    assert qtbase.is_file() and qtbase.stat().st_size > 10_000


def test_plurals_and_chinese_at_run_time(qapp):
    """The built .qm files do what the window relies on: English plural forms, Chinese words."""
    from PySide6.QtCore import QCoreApplication

    from ofa_manager.gui import i18n

    try:
        loaded = i18n.install("en", qapp)
        assert any(path.endswith("ofa_manager_en.qm") for path in loaded)
        one = QCoreApplication.translate("UsageModel", "{name} + %n sharing the file", "", 1)
        two = QCoreApplication.translate("UsageModel", "{name} + %n sharing the file", "", 2)
        assert (one, two) == ("{name} + 1 other sharing the file", "{name} + 2 others sharing the file")
        loaded = i18n.install("zh_CN", qapp)
        assert {Path(path).name for path in loaded} == {"qtbase_zh_CN.qm", "ofa_manager_zh_CN.qm"}
        assert QCoreApplication.translate("status", "Verified") == "已校验"
        assert i18n.duration_text(65) == "1 分 5 秒"
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
        assert i18n.moment_text("2026-11-30T19:38:53+0000").startswith("2026/11/30")
    finally:
        i18n.uninstall(qapp)


def test_language_follows_the_system_unless_set():
    from PySide6.QtCore import QLocale

    from ofa_manager.gui import i18n

    assert i18n.choose("", QLocale("zh_CN")) == "zh_CN"
    assert i18n.choose("", QLocale("zh_TW")) == "zh_CN"
    assert i18n.choose("", QLocale("en_GB")) == "en"
    assert i18n.choose("", QLocale("de_DE")) == "en"
    assert i18n.choose("en", QLocale("zh_CN")) == "en"
    assert i18n.choose("zh_CN", QLocale("en_US")) == "zh_CN"


def test_language_setting_is_checked(tmp_path):
    import json

    from ofa_manager.core import settings

    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "language": "zh_CN"}), encoding="utf-8")
    assert settings.load_checked(path) == (settings.Settings(language="zh_CN"), [])
    path.write_text(json.dumps({"version": 1, "language": "klingon"}), encoding="utf-8")
    loaded, problems = settings.load_checked(path)
    assert loaded.language == "" and "language" in problems[0]


def test_failures_read_in_the_window_language(qapp):
    """The engine's reasons are English; the window says them in its language: the usual ones and the
    server's usual answers translated, any other as the kind of failure (the tooltip has the rest)."""
    from ofa_manager.core.states import ErrorKind
    from ofa_manager.gui import i18n
    from ofa_manager.gui.status import short_reason

    refused = "cannot connect to 127.0.0.1:9 (connection refused)"
    assert short_reason(refused, ErrorKind.NETWORK) == refused
    assert short_reason("404 Not Found", ErrorKind.HTTP) == "404 Not Found"
    try:
        i18n.install("zh_CN", qapp)
        assert short_reason(refused, ErrorKind.NETWORK) == "无法连接服务器"
        assert short_reason("404 Not Found", ErrorKind.HTTP) == "404 未找到"
        assert short_reason("sha256 mismatch: expected 1, got 2", ErrorKind.INTEGRITY) == "sha256 不匹配"
        assert short_reason("", None) == "未知错误"
    finally:
        i18n.uninstall(qapp)
