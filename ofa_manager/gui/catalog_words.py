"""The built-in catalog's group names and titles, for translation; any other catalog's show as written.

The catalog is data shared with the command line (which stays English), so its words are translated
where the window shows them: ``catalog_text`` looks a title up in the "catalog" context of the
translation files, and a title not listed here (an imported catalog's) comes back unchanged. The list
below only tells pyside6-lupdate which words to collect.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

BUILT_IN = (
    QT_TRANSLATE_NOOP("catalog", "π-Tuning checkpoints"),  # the catalog's own title
    QT_TRANSLATE_NOOP("catalog", "Pretrained backbones"),
    QT_TRANSLATE_NOOP("catalog", "PETL on OFA-Large"),
    QT_TRANSLATE_NOOP("catalog", "Adapter checkpoint on RefCOCO"),
    QT_TRANSLATE_NOOP("catalog", "LoRA checkpoint on RefCOCO"),
    QT_TRANSLATE_NOOP("catalog", "Prompt checkpoint on RefCOCO"),
    QT_TRANSLATE_NOOP("catalog", "π-Adapter checkpoint on RefCOCO"),
    QT_TRANSLATE_NOOP("catalog", "Adapter checkpoint on RefCOCO+"),
    QT_TRANSLATE_NOOP("catalog", "π-Adapter checkpoint on RefCOCO+"),
    QT_TRANSLATE_NOOP("catalog", "Adapter checkpoint on RefCOCOg"),
    QT_TRANSLATE_NOOP("catalog", "π-Adapter checkpoint on RefCOCOg"),
)


def catalog_text(text: str) -> str:
    """A catalog's group name or title in the window's language, when the translation has it."""
    return QCoreApplication.translate("catalog", text) if text else text
