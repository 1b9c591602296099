"""What Download asks first: the missing backbone, not enough space."""

from __future__ import annotations

from tests.windows import PETL, WINDOW_MARKS, Answers, KiB, status, wait_status

pytestmark = WINDOW_MARKS


def test_petl_download_offers_the_backbone(qtbot, monkeypatch, server, open_window):
    server.add("ofa-large", 64 * KiB)
    for entry_id in PETL:
        server.add(entry_id, 16 * KiB, group=("PETL on OFA-Large", "RefCOCO"), path="/checkpoints/caption.pt")
    for entry in server.entries[1:]:
        entry["base"] = "ofa-large"
    window = open_window(server.catalog())
    catalog = window.workspace.catalog
    plan = window.plan_download([catalog.get("refcoco-lora")])
    assert [b.id for b in plan.missing_bases] == ["ofa-large"]
    assert plan.needed == 16 * KiB and plan.needed_with_bases == 80 * KiB

    answers = Answers(monkeypatch, window, lambda title, choices: choices[0])
    window.select(["refcoco-lora"])
    window.actions_by_name["download"].trigger()
    title, text, choices = answers.asked[0]
    assert choices == ["Queue OFA-Large Too", "Only the Selected", "Cancel"]
    assert "LoRA checkpoint on RefCOCO needs the backbone OFA-Large" in text  # the English plural form
    wait_status(qtbot, window, "ofa-large", "Downloaded")
    wait_status(qtbot, window, "refcoco-lora", "Downloaded")
    # The three PETL entries share the file: all of them are downloaded now, with one GET of the file.
    assert status(window, "refcocoplus-adapter") == "Downloaded"
    assert window.plan_download([catalog.get("refcoco-adapter")]).entries == []


def test_queue_warns_when_the_disk_is_too_small(qtbot, monkeypatch, server, open_window):
    server.add("ofa-huge", 512 * KiB)
    window = open_window(server.catalog())
    monkeypatch.setattr(window.store, "free_bytes", lambda: 100 * KiB)
    answers = Answers(monkeypatch, window, lambda title, choices: "Cancel")
    assert not window.download([window.workspace.catalog.get("ofa-huge")])
    assert answers.asked[0][0] == "Not enough disk space"
    assert "need 512.0 KiB" in answers.asked[0][1] and "only 100.0 KiB is free" in answers.asked[0][1]
    assert window.downloads.model.rowCount() == 0
