"""The download plan's figures, one rule at a time: what counts toward the bytes needed, what is missing.

``Known`` is what a front end knows of the models folder; the window's is its last scan and its queue.
``Scan`` below stands for that: the disk as ``DiskView`` reads it, with the statuses and queue items a
window would hold set per checkpoint (a partial file, a download on its way), as the window's tests see
them through the real workspace.
"""

from __future__ import annotations

import pytest

from ofa_manager.core.library import FileStatus, Library, State
from ofa_manager.core.plan import DiskView, deletion_impact, plan_download
from ofa_manager.core.states import ItemState, QueueItem
from ofa_manager.core.transfer import Transfer
from tests.catalogs import entry, fast_options, load, payload, write_catalog

URL = "https://models.invalid/{}.pt"


class Scan(DiskView):
    def __init__(self, library: Library, statuses=None, items=None, sizes=None) -> None:
        super().__init__(library)
        self.statuses = statuses or {}
        self.items = items or {}
        self.sizes = sizes or {}

    def status_of(self, e):
        return self.statuses.get(e.id) or super().status_of(e)

    def item_for(self, e):
        return self.items.get(e.id)

    def size_of(self, e):
        return self.sizes[e.id] if e.id in self.sizes else super().size_of(e)


@pytest.fixture
def library(tmp_path, models_dir) -> Library:
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry("plain", URL.format("plain"), size=1000),  # no base
            entry("bb1", URL.format("bb1"), size=5000),
            entry("bb2", URL.format("bb2")),  # size unknown
            entry("lora1", URL.format("lora1"), base="bb1", size=300),
            entry("lora2", URL.format("lora2"), base="bb2", size=200),
            entry("nosize", URL.format("nosize")),
            entry("nosize2", URL.format("nosize2")),
        ],
    )
    return Library(models_dir, load(catalog))


def plan(library, ids, known=None, free=10**12, queued=()):
    catalog = library.catalog
    return plan_download(
        [catalog.get(i) for i in ids], catalog, library, known or Scan(library), free=free, queued=queued
    )


def test_every_missing_backbone_is_named_even_after_an_entry_without_one(library):
    got = plan(library, ["plain", "lora1", "lora2"])
    assert [b.id for b in got.missing_bases] == ["bb1", "bb2"]
    assert [e.id for e in got.users_of_missing_bases()] == ["lora1", "lora2"]


def test_needed_counts_known_sizes_and_unknown_counts_each_file_without_one(library):
    got = plan(library, ["nosize", "plain", "nosize2", "lora1"])
    # Both unknown sizes are counted, and the files after an unknown one still count their bytes.
    assert got.unknown == 2 + 0  # bb1 (lora1's backbone) has a size
    assert got.needed == 1000 + 300
    assert got.needed_with_bases == 1000 + 300 + 5000


def test_unknown_counts_a_missing_backbones_unknown_size_only_when_there_is_one(library):
    assert plan(library, ["lora2"]).unknown == 1  # bb2's size is unknown; lora2's is known
    assert plan(library, ["plain"]).unknown == 0


def test_a_partial_files_bytes_count_as_had(library, models_dir):
    plain = library.catalog.get("plain")
    partial = FileStatus(State.PARTIAL, library.path(plain), bytes=400, size=1000)
    got = plan(library, ["plain"], Scan(library, statuses={"plain": partial}))
    assert got.needed == 600
    # More on disk than the catalog says (a size that changed): nothing left, never a negative need.
    overfull = FileStatus(State.PARTIAL, library.path(plain), bytes=1500, size=1000)
    assert plan(library, ["plain"], Scan(library, statuses={"plain": overfull})).needed == 0
    # Any other state's bytes are not had: a file not ours is fetched whole.
    foreign = FileStatus(State.FOREIGN, library.path(plain), bytes=400, size=1000)
    assert plan(library, ["plain"], Scan(library, statuses={"plain": foreign})).needed == 1000


def item(key, state, done, total):
    return QueueItem(key=str(key), entry_ids=("x",), title="x", state=state, done=done, total=total)


def test_already_queued_counts_what_other_unfinished_downloads_still_fetch(library, tmp_path):
    plain = library.catalog.get("plain")
    queued = [
        item(tmp_path / "other-a.pt", ItemState.DOWNLOADING, 100, 1100),  # 1000 still to come
        item(tmp_path / "other-b.pt", ItemState.PAUSED, 0, 50),  # 50
        item(tmp_path / "done.pt", ItemState.DONE, 70, 70),  # finished: nothing
        item(tmp_path / "failed.pt", ItemState.FAILED, 10, 90),  # not unfinished: nothing
        item(tmp_path / "nosize.pt", ItemState.DOWNLOADING, 10, None),  # unknown total: nothing
        item(tmp_path / "over.pt", ItemState.DOWNLOADING, 90, 80),  # past its total: nothing
        item(library.path(plain), ItemState.PAUSED, 10, 1000),  # the very file planned: counted in needed
    ]
    got = plan(library, ["plain"], queued=queued)
    assert got.already_queued == 1050
    assert got.needed == 1000
    assert got.space_needed(with_bases=False) == 2050


def test_space_needed_adds_the_queue_to_the_choice_with_or_without_backbones(library):
    got = plan(library, ["lora1"], free=0)
    got.already_queued = 7
    assert got.space_needed(with_bases=False) == 300 + 7
    assert got.space_needed(with_bases=True) == 300 + 5000 + 7


def test_short_of_space_only_when_more_is_needed_than_is_free(library):
    exact = plan(library, ["lora1"], free=300)
    assert not exact.short_of_space(with_bases=False)  # exactly enough is enough
    assert exact.short_of_space(with_bases=True)  # the backbone's 5000 bytes do not fit
    assert plan(library, ["lora1"], free=299).short_of_space(with_bases=False)
    assert not plan(library, ["lora1"], free=5300).short_of_space(with_bases=True)


def test_the_disk_view_knows_a_downloaded_files_size_when_the_catalog_does_not(tmp_path, http_server):
    data = payload(1234)
    http_server.add("/nosize.pt", data)
    catalog = write_catalog(tmp_path / "n.json", [entry("nosize", http_server.url("/nosize.pt"))])
    library = Library(tmp_path / "models", load(catalog))
    nosize = library.catalog.get("nosize")
    view = DiskView(library)
    assert view.size_of(nosize) is None  # not here, no size anywhere
    assert plan(library, ["nosize"]).unknown == 1
    Transfer(library, nosize, fast_options()).run()
    assert view.status_of(nosize).state is State.DOWNLOADED
    assert view.size_of(nosize) == len(data)  # from the file's metadata


class BeforeTheFirstScan(Scan):
    """The window before its first scan: no status known for any checkpoint."""

    def status_of(self, e):
        return None


def test_before_the_first_scan_every_file_is_needed_whole(library):
    got = plan(library, ["plain", "lora1"], BeforeTheFirstScan(library, sizes={"plain": 1000, "lora1": 300}))
    assert [e.id for e in got.entries] == ["plain", "lora1"] and got.needed == 1300


def test_the_deletion_impact_names_the_checkpoint_and_its_file(library):
    bb1 = library.catalog.get("bb1")
    (impact,) = deletion_impact([bb1], library.catalog, library, DiskView(library))
    assert impact.entry is bb1 and impact.path == library.path(bb1)
    assert impact.sharing == [] and impact.breaks == []  # lora1 is not downloaded: nothing breaks
