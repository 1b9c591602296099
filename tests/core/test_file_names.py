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
from tests.scenes import SIZE, to_earlier_name

pytestmark = pytest.mark.usefixtures("engine_threads_end")


def test_names_several_urls_publish_keep_their_name_in_a_folder_per_host(names_site, capsys):
    root = names_site.dir.resolve()
    assert names_site.path("one") == root / names_site.hosts["one"] / "model.pt"
    assert names_site.path("two") == root / names_site.hosts["two"] / "model.pt"
    code, _, err = run_cli(capsys, *names_site.args, "download", "one", "two")
    assert code == 0, err
    assert (root / names_site.hosts["one"] / "model.pt").read_bytes() == names_site.one
    assert (root / names_site.hosts["two"] / "model.pt").read_bytes() == names_site.two
    rows = names_site.listed(capsys)
    assert {rows[i]["state"] for i in rows} == {"downloaded"}
    assert rows["one"]["path"] == str(root / names_site.hosts["one"] / "model.pt")
    # Verify, du and rm work on them as on any file.
    assert run_cli(capsys, *names_site.args, "verify")[0] == 0
    usage = json.loads(run_cli(capsys, *names_site.args, "du", "--json")[1])
    assert usage["downloaded"] == len(names_site.one) + len(names_site.two)
    assert run_cli(capsys, *names_site.args, "rm", "two", "--yes")[0] == 0
    assert not names_site.path("two").exists() and names_site.path("one").exists()


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


def test_files_under_the_hashed_names_of_earlier_versions_are_found_and_moved(names_site, capsys):
    assert run_cli(capsys, *names_site.args, "download", "one", "two")[0] == 0
    root = names_site.dir.resolve()
    hashed = {i: root / names.hashed_name("model.pt", names_site.urls[i]) for i in ("one", "two")}
    for i in ("one", "two"):
        assert ".model.pt.meta.json" in [
            n.replace(hashed[i].stem, "model") for n in to_earlier_name(names_site, i, hashed[i])
        ]
    gets = len(names_site.server.requests_for("/a/model.pt", "GET")) + len(
        names_site.server.requests_for("/b/model.pt", "GET")
    )

    code, out, err = run_cli(capsys, *names_site.args, "list", "--json")
    assert code == 0, err
    assert f"{hashed['one'].name} is now {names_site.hosts['one']}/model.pt" in err
    assert all(row["state"] == "downloaded" for row in json.loads(out))
    assert (
        names_site.path("one").read_bytes() == names_site.one
        and names_site.path("two").read_bytes() == names_site.two
    )
    assert not hashed["one"].exists() and not hashed["two"].exists()
    # Their metadata came along: still ours, still verified, nothing fetched again.
    assert run_cli(capsys, *names_site.args, "verify")[0] == 0
    assert run_cli(capsys, *names_site.args, "download", "one", "two")[0] == 0
    after = len(names_site.server.requests_for("/a/model.pt", "GET")) + len(
        names_site.server.requests_for("/b/model.pt", "GET")
    )
    assert after == gets


def test_partial_data_under_an_earlier_name_is_resumed_not_fetched_again(names_site, capsys, http_server):
    route = http_server.route("/a/model.pt")
    route.drop_after, route.drop_times = SIZE // 2, 1
    code, _, _ = run_cli(capsys, *names_site.args, "download", "one", "--connections", "1", "--retries", "0")
    assert code == 1
    hashed = names_site.dir.resolve() / names.hashed_name("model.pt", names_site.urls["one"])
    assert set(to_earlier_name(names_site, "one", hashed)) == {
        hashed.name + ".part",
        hashed.name + ".part.json",
    }
    code, _, err = run_cli(capsys, *names_site.args, "download", "one", "--connections", "1")
    assert code == 0, err
    assert names_site.path("one").read_bytes() == names_site.one
    # The first half was not fetched again: about one file's worth of bytes in all.
    assert bytes_served(http_server, "/a/model.pt") < SIZE + SIZE // 4
    assert not hashed.with_name(hashed.name + ".part").exists()


def test_a_file_at_the_plain_name_is_moved_only_when_its_metadata_names_the_url(
    tmp_path, names_site, capsys, models_dir
):
    # A catalog with one of the two URLs: the file had the plain name, as it was not a collision then.
    alone = write_catalog(
        tmp_path / "alone.json", [entry("one", names_site.urls["one"], sha256=sha256(names_site.one))]
    )
    assert run_cli(capsys, "--dir", str(models_dir), "--catalog", str(alone), "download", "one")[0] == 0
    plain = models_dir / "model.pt"
    assert plain.read_bytes() == names_site.one
    # Now both: the file moves into its host's folder, and the other URL's entry does not take it.
    rows = names_site.listed(capsys)
    assert rows["one"]["state"] == "downloaded" and rows["two"]["state"] == "remote"
    assert names_site.path("one").read_bytes() == names_site.one and not plain.exists()


def test_a_file_of_someone_elses_at_the_plain_name_stays_where_it_is(names_site, capsys, models_dir):
    plain = models_dir / "model.pt"
    models_dir.mkdir(parents=True, exist_ok=True)
    plain.write_bytes(b"my own notes, not a checkpoint")
    rows = names_site.listed(capsys)
    assert rows["one"]["state"] == rows["two"]["state"] == "remote"
    assert plain.read_bytes() == b"my own notes, not a checkpoint"


def test_an_earlier_name_whose_new_name_is_taken_is_left_alone(names_site, capsys):
    assert run_cli(capsys, *names_site.args, "download", "one")[0] == 0
    hashed = names_site.dir.resolve() / names.hashed_name("model.pt", names_site.urls["one"])
    shutil.copy2(names_site.path("one"), hashed)
    names_site.listed(capsys)
    assert hashed.exists() and names_site.path("one").read_bytes() == names_site.one


def test_a_link_at_a_hosts_folder_is_never_followed(names_site, capsys, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    names_site.dir.mkdir(parents=True, exist_ok=True)
    os.symlink(elsewhere, names_site.dir / names_site.hosts["one"])
    rows = names_site.listed(capsys)
    assert rows["one"]["state"] == "not-ours"
    code, _, err = run_cli(capsys, *names_site.args, "download", "one", "two")
    assert code == 1 and "a symbolic link" in err
    assert os.listdir(elsewhere) == []  # nothing written through the link
    assert names_site.path("two").read_bytes() == names_site.two


def test_moving_the_models_folder_keeps_the_hosts_folders(names_site, capsys, tmp_path):
    assert run_cli(capsys, *names_site.args, "download", "one", "two")[0] == 0
    target = tmp_path / "moved"
    code, _, err = run_cli(capsys, *names_site.args, "move", str(target))
    assert code == 0, err
    assert (target / names_site.hosts["one"] / "model.pt").read_bytes() == names_site.one
    assert (target / names_site.hosts["two"] / "model.pt").read_bytes() == names_site.two
    code, out, _ = run_cli(
        capsys, "--dir", str(target), "--catalog", str(names_site.catalog), "list", "--json"
    )
    assert {row["state"] for row in json.loads(out)} == {"downloaded"}


def test_a_hosts_folder_in_a_group_shared_models_folder_is_shared_too(names_site, capsys):
    import stat

    names_site.dir.mkdir(parents=True, exist_ok=True)
    os.chmod(names_site.dir, 0o2770)  # set up for a group: setgid, group-writable
    assert run_cli(capsys, *names_site.args, "download", "one")[0] == 0
    mode = os.stat(names_site.path("one").parent).st_mode
    assert mode & stat.S_ISGID and mode & stat.S_IWGRP


def test_a_link_to_a_file_in_a_hosts_folder_is_ours_and_re_pointed(names_site, capsys, tmp_path):
    assert run_cli(capsys, *names_site.args, "download", "one", "two")[0] == 0
    project = tmp_path / "project"
    code, out, err = run_cli(
        capsys, *names_site.args, "link", "one", "--into", str(project), "--as", "model.pt"
    )
    assert code == 0, err
    assert os.readlink(project / "model.pt") == str(names_site.path("one"))
    # The same name for the other entry: our link to the first is re-pointed, not refused.
    code, out, err = run_cli(
        capsys, *names_site.args, "link", "two", "--into", str(project), "--as", "model.pt"
    )
    assert code == 0, (out, err)
    assert os.readlink(project / "model.pt") == str(names_site.path("two"))


def test_a_download_itself_resumes_partial_data_kept_under_an_earlier_name(names_site, capsys, http_server):
    """As the window's download process does, which may start before any scan has looked."""
    from ofa_manager.core.transfer import Transfer
    from tests.catalogs import fast_options

    route = http_server.route("/a/model.pt")
    route.drop_after, route.drop_times = SIZE // 2, 1
    code, _, _ = run_cli(capsys, *names_site.args, "download", "one", "--connections", "1", "--retries", "0")
    assert code == 1
    hashed = names_site.dir.resolve() / names.hashed_name("model.pt", names_site.urls["one"])
    to_earlier_name(names_site, "one", hashed)
    before = bytes_served(http_server, "/a/model.pt")
    library = Library(names_site.dir, load(names_site.catalog))
    assert Transfer(
        library, library.catalog.get("one"), fast_options(connections=1)
    ).run() == names_site.path("one")
    assert names_site.path("one").read_bytes() == names_site.one
    assert bytes_served(http_server, "/a/model.pt") - before <= SIZE // 2 + 64 * 1024
