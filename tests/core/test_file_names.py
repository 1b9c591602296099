"""How files are named (issue 11, item 8): published names kept, a folder per source host for names that
several URLs publish, and files kept under the names earlier versions chose found and moved, not lost."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from ofa_manager.core import names
from ofa_manager.core.library import Library
from tests.catalogs import bytes_served, entry, load, run_cli, sha256, write_catalog
from tests.scenes import SIZE, SameNameSite, to_earlier_name


@pytest.fixture
def site(tmp_path, models_dir, http_server) -> SameNameSite:
    return SameNameSite(tmp_path, models_dir, http_server)


pytestmark = pytest.mark.usefixtures("engine_threads_end")


def test_names_several_urls_publish_keep_their_name_in_a_folder_per_host(site, capsys):
    root = site.dir.resolve()
    assert site.path("one") == root / site.hosts["one"] / "model.pt"
    assert site.path("two") == root / site.hosts["two"] / "model.pt"
    code, _, err = run_cli(capsys, *site.args, "download", "one", "two")
    assert code == 0, err
    assert (root / site.hosts["one"] / "model.pt").read_bytes() == site.one
    assert (root / site.hosts["two"] / "model.pt").read_bytes() == site.two
    rows = site.listed(capsys)
    assert {rows[i]["state"] for i in rows} == {"downloaded"}
    assert rows["one"]["path"] == str(root / site.hosts["one"] / "model.pt")
    # Verify, du and rm work on them as on any file.
    assert run_cli(capsys, *site.args, "verify")[0] == 0
    usage = json.loads(run_cli(capsys, *site.args, "du", "--json")[1])
    assert usage["downloaded"] == len(site.one) + len(site.two)
    assert run_cli(capsys, *site.args, "rm", "two", "--yes")[0] == 0
    assert not site.path("two").exists() and site.path("one").exists()


def test_a_name_unique_in_the_catalog_stays_in_the_models_folder(tmp_path, models_dir):
    catalog = write_catalog(tmp_path / "c.json", [entry("m", "https://example.org/x/ofa_large.pt")])
    library = Library(models_dir, load(catalog))
    assert library.path(library.catalog.get("m")) == models_dir.resolve() / "ofa_large.pt"


def test_one_host_publishing_a_name_twice_adds_a_hash_inside_its_folder(tmp_path, models_dir):
    urls = ["https://example.org/a/model.pt", "https://example.org/b/model.pt", "https://other.org/model.pt"]
    catalog = write_catalog(tmp_path / "c.json", [entry(f"e{i}", u) for i, u in enumerate(urls)])
    library = Library(models_dir, load(catalog))
    a, b, c = (library.path(library.catalog.get(f"e{i}")) for i in range(3))
    root = models_dir.resolve()
    assert a == root / "example.org" / names.hashed_name("model.pt", urls[0])
    assert b == root / "example.org" / names.hashed_name("model.pt", urls[1])
    assert c == root / "other.org" / "model.pt"


def test_files_under_the_hashed_names_of_earlier_versions_are_found_and_moved(site, capsys):
    assert run_cli(capsys, *site.args, "download", "one", "two")[0] == 0
    root = site.dir.resolve()
    hashed = {i: root / names.hashed_name("model.pt", site.urls[i]) for i in ("one", "two")}
    for i in ("one", "two"):
        assert ".model.pt.meta.json" in [
            n.replace(hashed[i].stem, "model") for n in to_earlier_name(site, i, hashed[i])
        ]
    gets = len(site.server.requests_for("/a/model.pt", "GET")) + len(
        site.server.requests_for("/b/model.pt", "GET")
    )

    code, out, err = run_cli(capsys, *site.args, "list", "--json")
    assert code == 0, err
    assert f"{hashed['one'].name} is now {site.hosts['one']}/model.pt" in err
    assert all(row["state"] == "downloaded" for row in json.loads(out))
    assert site.path("one").read_bytes() == site.one and site.path("two").read_bytes() == site.two
    assert not hashed["one"].exists() and not hashed["two"].exists()
    # Their metadata came along: still ours, still verified, nothing fetched again.
    assert run_cli(capsys, *site.args, "verify")[0] == 0
    assert run_cli(capsys, *site.args, "download", "one", "two")[0] == 0
    after = len(site.server.requests_for("/a/model.pt", "GET")) + len(
        site.server.requests_for("/b/model.pt", "GET")
    )
    assert after == gets


def test_partial_data_under_an_earlier_name_is_resumed_not_fetched_again(site, capsys, http_server):
    route = http_server.route("/a/model.pt")
    route.drop_after, route.drop_times = SIZE // 2, 1
    code, _, _ = run_cli(capsys, *site.args, "download", "one", "--connections", "1", "--retries", "0")
    assert code == 1
    hashed = site.dir.resolve() / names.hashed_name("model.pt", site.urls["one"])
    assert set(to_earlier_name(site, "one", hashed)) == {
        hashed.name + ".part",
        hashed.name + ".part.json",
    }
    code, _, err = run_cli(capsys, *site.args, "download", "one", "--connections", "1")
    assert code == 0, err
    assert site.path("one").read_bytes() == site.one
    # The first half was not fetched again: about one file's worth of bytes in all.
    assert bytes_served(http_server, "/a/model.pt") < SIZE + SIZE // 4
    assert not hashed.with_name(hashed.name + ".part").exists()


def test_a_file_at_the_plain_name_is_moved_only_when_its_metadata_names_the_url(
    tmp_path, site, capsys, models_dir
):
    # A catalog with one of the two URLs: the file had the plain name, as it was not a collision then.
    alone = write_catalog(tmp_path / "alone.json", [entry("one", site.urls["one"], sha256=sha256(site.one))])
    assert run_cli(capsys, "--dir", str(models_dir), "--catalog", str(alone), "download", "one")[0] == 0
    plain = models_dir / "model.pt"
    assert plain.read_bytes() == site.one
    # Now both: the file moves into its host's folder, and the other URL's entry does not take it.
    rows = site.listed(capsys)
    assert rows["one"]["state"] == "downloaded" and rows["two"]["state"] == "remote"
    assert site.path("one").read_bytes() == site.one and not plain.exists()


def test_a_file_of_someone_elses_at_the_plain_name_stays_where_it_is(site, capsys, models_dir):
    plain = models_dir / "model.pt"
    models_dir.mkdir(parents=True, exist_ok=True)
    plain.write_bytes(b"my own notes, not a checkpoint")
    rows = site.listed(capsys)
    assert rows["one"]["state"] == rows["two"]["state"] == "remote"
    assert plain.read_bytes() == b"my own notes, not a checkpoint"


def test_an_earlier_name_whose_new_name_is_taken_is_left_alone(site, capsys):
    assert run_cli(capsys, *site.args, "download", "one")[0] == 0
    hashed = site.dir.resolve() / names.hashed_name("model.pt", site.urls["one"])
    shutil.copy2(site.path("one"), hashed)
    site.listed(capsys)
    assert hashed.exists() and site.path("one").read_bytes() == site.one


def test_a_link_at_a_hosts_folder_is_never_followed(site, capsys, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    site.dir.mkdir(parents=True, exist_ok=True)
    os.symlink(elsewhere, site.dir / site.hosts["one"])
    rows = site.listed(capsys)
    assert rows["one"]["state"] == "not-ours"
    code, _, err = run_cli(capsys, *site.args, "download", "one", "two")
    assert code == 1 and "a symbolic link" in err
    assert os.listdir(elsewhere) == []  # nothing written through the link
    assert site.path("two").read_bytes() == site.two


def test_moving_the_models_folder_keeps_the_hosts_folders(site, capsys, tmp_path):
    assert run_cli(capsys, *site.args, "download", "one", "two")[0] == 0
    target = tmp_path / "moved"
    code, _, err = run_cli(capsys, *site.args, "move", str(target))
    assert code == 0, err
    assert (target / site.hosts["one"] / "model.pt").read_bytes() == site.one
    assert (target / site.hosts["two"] / "model.pt").read_bytes() == site.two
    code, out, _ = run_cli(capsys, "--dir", str(target), "--catalog", str(site.catalog), "list", "--json")
    assert {row["state"] for row in json.loads(out)} == {"downloaded"}


def test_a_hosts_folder_in_a_group_shared_models_folder_is_shared_too(site, capsys):
    import stat

    site.dir.mkdir(parents=True, exist_ok=True)
    os.chmod(site.dir, 0o2770)  # set up for a group: setgid, group-writable
    assert run_cli(capsys, *site.args, "download", "one")[0] == 0
    mode = os.stat(site.path("one").parent).st_mode
    assert mode & stat.S_ISGID and mode & stat.S_IWGRP


def test_a_link_to_a_file_in_a_hosts_folder_is_ours_and_re_pointed(site, capsys, tmp_path):
    assert run_cli(capsys, *site.args, "download", "one", "two")[0] == 0
    project = tmp_path / "project"
    code, out, err = run_cli(capsys, *site.args, "link", "one", "--into", str(project), "--as", "model.pt")
    assert code == 0, err
    assert os.readlink(project / "model.pt") == str(site.path("one"))
    # The same name for the other entry: our link to the first is re-pointed, not refused.
    code, out, err = run_cli(capsys, *site.args, "link", "two", "--into", str(project), "--as", "model.pt")
    assert code == 0, (out, err)
    assert os.readlink(project / "model.pt") == str(site.path("two"))


def test_a_download_itself_resumes_partial_data_kept_under_an_earlier_name(site, capsys, http_server):
    """As the window's download process does, which may start before any scan has looked."""
    from ofa_manager.core.transfer import Transfer
    from tests.catalogs import fast_options

    route = http_server.route("/a/model.pt")
    route.drop_after, route.drop_times = SIZE // 2, 1
    code, _, _ = run_cli(capsys, *site.args, "download", "one", "--connections", "1", "--retries", "0")
    assert code == 1
    hashed = site.dir.resolve() / names.hashed_name("model.pt", site.urls["one"])
    to_earlier_name(site, "one", hashed)
    before = bytes_served(http_server, "/a/model.pt")
    library = Library(site.dir, load(site.catalog))
    assert Transfer(library, library.catalog.get("one"), fast_options(connections=1)).run() == site.path(
        "one"
    )
    assert site.path("one").read_bytes() == site.one
    assert bytes_served(http_server, "/a/model.pt") - before <= SIZE // 2 + 64 * 1024
