"""What a checkpoint holds, what the catalog claims, and how they differ, in the window's language.

core/claims.py decides (``claim_mismatch``) and words it in English for the command line; the window
words the same facts (the summary and the claim, plain data) itself, so they can be translated. Names
from the file (an architecture such as ``ofa_huge``, a task such as ``refcoco``, Python globals) stay as
the file has them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from ofa_manager.core.claims import arch_title, claim_mismatch, params_text


def _family(petl: str) -> str:
    """A PETL family by its name (names of methods, the same in every language)."""
    return {"adapter": "Adapter", "lora": "LoRA", "prompt": "Prompt", "pi-adapter": "π-Adapter"}.get(
        petl, petl
    )


def contents_text(summary: dict[str, Any]) -> str:
    """What the file holds: 'ofa_huge fine-tuned for caption (1.03B parameters)'."""
    if summary.get("error"):
        return QCoreApplication.translate("claims", "no readable checkpoint")
    arch = summary.get("arch")
    size = summary.get("inferred_size")
    if arch and size and size not in arch.lower():
        text = QCoreApplication.translate("claims", "{arch} ({model} by its shapes)").format(
            arch=arch, model=f"OFA-{size.capitalize()}"
        )
    elif arch:
        text = arch
    elif size:
        text = QCoreApplication.translate("claims", "an {model} model (by its shapes)").format(
            model=f"OFA-{size.capitalize()}"
        )
    else:
        text = QCoreApplication.translate("claims", "a model of unknown architecture")
    if summary.get("task"):
        text = QCoreApplication.translate("claims", "{model} fine-tuned for {task}").format(
            model=text, task=summary["task"]
        )
    families = [_family(f) for f in summary.get("petl") or []]
    if families:
        text = QCoreApplication.translate("claims", "{model} with {families} keys").format(
            model=text, families=", ".join(families)
        )
    if summary.get("params"):
        text = QCoreApplication.translate("claims", "{model} ({params} parameters)").format(
            model=text, params=params_text(summary["params"])
        )
    return text


def claim_text(expect: dict[str, Any]) -> str:
    """What the catalog says the file is: 'an Adapter for refcoco on OFA-Large'."""
    arch = arch_title(expect["arch"]) if expect.get("arch") else None
    task = expect.get("task")
    if expect.get("petl"):
        family = {
            "adapter": QCoreApplication.translate("claims", "an Adapter"),
            "lora": QCoreApplication.translate("claims", "a LoRA"),
            "prompt": QCoreApplication.translate("claims", "a Prompt"),
            "pi-adapter": QCoreApplication.translate("claims", "a π-Adapter"),
        }.get(expect["petl"], expect["petl"])
        if task and arch:
            text = QCoreApplication.translate("claims", "{family} for {task} on {arch}")
        elif task:
            text = QCoreApplication.translate("claims", "{family} for {task}")
        elif arch:
            text = QCoreApplication.translate("claims", "{family} on {arch}")
        else:
            text = QCoreApplication.translate("claims", "{family}")
        text = text.format(family=family, task=task, arch=arch)
    else:
        text = arch or QCoreApplication.translate("claims", "a checkpoint")
        if task:
            text = QCoreApplication.translate("claims", "{model} fine-tuned for {task}").format(
                model=text, task=task
            )
    if expect.get("params"):
        text = QCoreApplication.translate("claims", "{claim} (~{params} parameters)").format(
            claim=text, params=params_text(expect["params"])
        )
    return text


def mismatch_text(expect: dict[str, Any] | None, summary: dict[str, Any] | None) -> str | None:
    """How the file differs from the claim ("holds …, not …"); None when it agrees (core decides)."""
    if claim_mismatch(expect, summary) is None or expect is None or summary is None:
        return None
    if summary.get("error"):
        return QCoreApplication.translate("claims", "holds no readable checkpoint, not {claim}").format(
            claim=claim_text(expect)
        )
    return QCoreApplication.translate("claims", "holds {contents}, not {claim}").format(
        contents=contents_text(summary), claim=claim_text(expect)
    )


def safety_text(summary: dict[str, Any]) -> str:
    """The safety verdict: plain data, or what loading it would import or call."""
    if summary.get("error"):
        return QCoreApplication.translate("claims", "not readable as a checkpoint")
    if summary.get("safe"):
        return QCoreApplication.translate("claims", "tensors and plain data only")
    parts = []
    if summary.get("dangerous"):
        parts.append(
            QCoreApplication.translate("claims", "dangerous: {names}").format(
                names=", ".join(summary["dangerous"])
            )
        )
    if summary.get("unknown"):
        parts.append(
            QCoreApplication.translate("claims", "unknown: {names}").format(
                names=", ".join(summary["unknown"])
            )
        )
    return QCoreApplication.translate(
        "claims", "loading it with weights_only=False would import or call {globals}"
    ).format(globals="; ".join(parts))
