"""Where the bytes come from: mirrors in order, rewrite rules, proxies, tokens, a URL's user and password."""

from __future__ import annotations

import base64
import threading

import keyring
import keyring.backends.fail
import pytest

from ofa_manager import cli
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.queue import DownloadQueue, ItemState
from ofa_manager.core.transfer import Transfer
from ofa_manager.core.transfer_options import Aborted, DownloadError
from tests.catalogs import MiB, entry, fast_options, load, payload, sha256, wait_for, write_catalog
from tests.httpserver import TestServer
from tests.transfers import PASSWORD, USER, files_holding, options, run, setup, with_credentials

pytestmark = pytest.mark.usefixtures("engine_threads_end")


def test_mirrors_are_tried_in_order_when_the_main_url_fails(tmp_path, models_dir, http_server):
    data = payload(500_000)
    http_server.add("/main.pt", data, statuses=[404])
    http_server.add("/mirror1.pt", data, statuses=[503] * 10)
    http_server.add("/mirror2.pt", data)
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry(
                "m",
                http_server.url("/main.pt"),
                filename="model.pt",
                mirrors=[http_server.url("/mirror1.pt"), http_server.url("/mirror2.pt")],
            )
        ],
    )
    library = Library(models_dir, load(catalog))
    m = library.catalog.get("m")
    assert run(library, m, options(retries=1)).read_bytes() == data
    # Before a mirror is used its HEAD fingerprints are compared with the main URL's (one HEAD each).
    gets = [r.path for r in http_server.requests if r.method == "GET"]
    assert gets == ["/main.pt", "/mirror1.pt", "/mirror1.pt", "/mirror2.pt"]
    assert library.read_meta(m)["url"] == http_server.url("/mirror2.pt")


def test_every_source_failing_lists_the_reasons(tmp_path, models_dir, http_server):
    http_server.add("/main.pt", b"x", statuses=[404])
    # Twice: the HEAD that compares the mirror's fingerprints with the main URL's gets one answer too.
    http_server.add("/mirror.pt", b"x", statuses=[403, 403])
    catalog = write_catalog(
        tmp_path / "c.json",
        [entry("m", http_server.url("/main.pt"), title="Model M", mirrors=[http_server.url("/mirror.pt")])],
    )
    library = Library(models_dir, load(catalog))
    with pytest.raises(DownloadError) as info:
        run(library, library.catalog.get("m"))
    assert "404" in str(info.value) and "403" in str(info.value) and str(info.value).startswith("Model M")


def test_a_refused_connection_falls_through_to_the_mirror(tmp_path, models_dir, http_server):
    data = payload(100_000)
    http_server.add("/mirror.pt", data)
    with TestServer() as gone:
        dead = gone.url("/main.pt")
    catalog = write_catalog(tmp_path / "c.json", [entry("m", dead, mirrors=[http_server.url("/mirror.pt")])])
    library = Library(models_dir, load(catalog))
    assert run(library, library.catalog.get("m"), options(retries=1)).read_bytes() == data


def test_rewrite_rules_point_a_url_prefix_at_another_server(tmp_path, models_dir, http_server):
    data = payload(300_000)
    http_server.add("/lab-mirror/checkpoints/ofa_tiny.pt", data)
    catalog = write_catalog(
        tmp_path / "c.json",
        [entry("t", "https://ofa-beijing.oss-cn-beijing.aliyuncs.com.invalid/checkpoints/ofa_tiny.pt")],
    )
    library = Library(models_dir, load(catalog))
    rules = [("https://ofa-beijing.oss-cn-beijing.aliyuncs.com.invalid/", http_server.url("/lab-mirror/"))]
    final = run(library, library.catalog.get("t"), options(rewrite_rules=rules))
    assert final.read_bytes() == data and final.name == "ofa_tiny.pt"
    assert [r.path for r in http_server.requests] == ["/lab-mirror/checkpoints/ofa_tiny.pt"]


def test_proxy_from_the_environment_is_used(tmp_path, models_dir, http_server, monkeypatch):
    # The test server plays the proxy: it sees absolute URLs and serves them by path.
    data = payload(3 * MiB)
    http_server.add("/via-proxy.pt", data, drop_after=1_000_000)
    monkeypatch.setenv("HTTP_PROXY", f"http://{http_server.netloc}")
    url = "http://checkpoints.example.invalid/via-proxy.pt"
    library = Library(models_dir, load(write_catalog(tmp_path / "c.json", [entry("p", url)])))
    assert run(library, library.catalog.get("p")).read_bytes() == data
    assert len(http_server.requests) >= 2 and all(r.path == url for r in http_server.requests)


def test_token_is_sent_to_its_host_only_and_not_after_a_redirect(
    tmp_path, models_dir, http_server, memory_keyring
):
    # Relies on the in-memory keyring fixture: no Secret Service runs on the test machine.
    data = payload(200_000)
    with TestServer() as other:
        other.add("/elsewhere.pt", data)
        http_server.add("/m.pt", data, redirect_to=other.url("/elsewhere.pt"))
        http_server.add("/direct.pt", data)
        memory_keyring.set_password("ofa-manager", http_server.netloc, "s3cret-token")
        catalog = write_catalog(
            tmp_path / "c.json",
            [entry("m", http_server.url("/m.pt")), entry("d", http_server.url("/direct.pt"))],
        )
        library = Library(models_dir, load(catalog))
        assert run(library, library.catalog.get("m")).read_bytes() == data
        assert run(library, library.catalog.get("d")).read_bytes() == data
        mine = http_server.requests
        theirs = other.requests
    assert mine and all(r.headers.get("authorization") == "Bearer s3cret-token" for r in mine)
    assert theirs and all("authorization" not in r.headers for r in theirs)


def test_token_of_the_redirect_target_goes_only_to_the_target(
    tmp_path, models_dir, http_server, memory_keyring
):
    data = payload(200_000)
    with TestServer() as other:
        other.add("/elsewhere.pt", data)
        http_server.add("/m.pt", data, redirect_to=other.url("/elsewhere.pt"))
        memory_keyring.set_password("ofa-manager", other.netloc, "their-token")
        catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"))])
        library = Library(models_dir, load(catalog))
        assert run(library, library.catalog.get("m")).read_bytes() == data
        theirs = other.requests
    assert all("authorization" not in r.headers for r in http_server.requests)
    assert all(r.headers.get("authorization") == "Bearer their-token" for r in theirs)


def test_token_never_appears_in_errors_or_progress(tmp_path, models_dir, http_server, memory_keyring):
    http_server.add("/m.pt", b"x", statuses=[503, 503, 401])
    memory_keyring.set_password("ofa-manager", http_server.netloc, "s3cret-token")
    catalog = write_catalog(tmp_path / "c.json", [entry("m", http_server.url("/m.pt"))])
    library = Library(models_dir, load(catalog))
    seen = []
    with pytest.raises(DownloadError) as info:
        run(library, library.catalog.get("m"), on_progress=seen.append)
    assert "401" in str(info.value)
    assert "s3cret" not in str(info.value) and not any("s3cret" in repr(p) for p in seen)


def test_downloads_work_without_a_keyring_backend(tmp_path, models_dir, http_server):
    data = payload(200_000)
    route, library, m = setup(tmp_path, models_dir, http_server, data)
    keyring.set_keyring(keyring.backends.fail.Keyring())  # the memory_keyring fixture restores it
    assert run(library, m).read_bytes() == data
    assert all("authorization" not in r.headers for r in http_server.requests)


READ_ONLY_COMMANDS = (
    ["list"],
    ["list", "--json"],
    ["check"],
    ["check", "--json"],
    ["verify"],
    ["du", "--json"],
)


def test_a_urls_user_and_password_are_sent_but_never_written_or_printed(
    tmp_path, models_dir, http_server, capsys, isolated_user_folders
):
    good, slow = payload(300_000, 1), payload(4 * MiB, 2)
    http_server.add("/good.pt", data=good)
    http_server.add("/mirror/good.pt", data=good)
    http_server.add("/slow.pt", data=slow, rate=512 * 1024)
    # A redirect to a URL that cannot be fetched, carrying credentials of its own, then a missing mirror.
    http_server.add("/bad.pt", b"x", redirect_to=f"ftp://{USER}:{PASSWORD}@files.invalid/bad.pt")
    catalog = write_catalog(
        tmp_path / "c.json",
        [
            entry(
                "good",
                with_credentials(http_server.url("/good.pt")),
                sha256=sha256(good),
                mirrors=[with_credentials(http_server.url("/mirror/good.pt"))],
            ),
            entry(
                "bad",
                with_credentials(http_server.url("/bad.pt")),
                mirrors=[with_credentials(http_server.url("/gone.pt"))],
            ),
            entry("slow", with_credentials(http_server.url("/slow.pt"))),
        ],
    )
    args = ["--dir", str(models_dir), "--catalog", str(catalog)]
    outputs = []

    def command(*more):
        code = cli.main([*args, *more])
        out, err = capsys.readouterr()
        outputs.append(out + err)
        return code, out, err

    assert command("download", "good")[0] == 0
    code, _, err = command("download", "bad")
    assert code == 1 and "redirect to unsupported URL ftp://***@files.invalid/bad.pt" in err
    codes = [command(*more)[0] for more in READ_ONLY_COMMANDS]
    # check says "bad" is not downloaded (exit 1); verify proves the one file there is (exit 0).
    assert codes == [0, 0, 1, 1, 0, 0], list(
        zip([" ".join(c) for c in READ_ONLY_COMMANDS], codes, strict=True)
    )
    assert f"http://***@{http_server.netloc}/good.pt" in outputs[3]  # list --json shows the URL, redacted

    # The queue's state file (the window's), with a failed row, and a paused download's resume record.
    library = Library(models_dir, load(catalog))
    state_file = isolated_user_folders["XDG_STATE_HOME"] / "ofa-manager" / "queue.json"
    queue = DownloadQueue(library, fast_options(), state_file=state_file)
    try:
        queue.add([library.catalog.get("bad")])
        assert queue.wait(30)
        assert queue.items()[0].state is ItemState.FAILED and "***@" in queue.items()[0].error
    finally:
        queue.shutdown()
    abort = threading.Event()
    slow_transfer = Transfer(library, library.catalog.get("slow"), fast_options(), abort=abort)
    runner = threading.Thread(target=lambda: pytest.raises(Aborted, slow_transfer.run))
    runner.start()
    wait_for(lambda: library.read_record(library.catalog.get("slow")).get("ranges"), what="a resume record")
    abort.set()
    runner.join()

    # The credentials were used: HTTP Basic authentication on the requests to the file.
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert {r.headers.get("authorization") for r in http_server.requests_for("/good.pt")} == {basic}
    # What was written holds the URLs, without them.
    meta = library.read_meta(library.catalog.get("good"))
    assert meta["url"] == meta["catalog_url"] == f"http://***@{http_server.netloc}/good.pt"
    assert library.status(library.catalog.get("good")).state is State.DOWNLOADED
    assert library.read_record(library.catalog.get("slow"))["url"].startswith("http://***@")
    assert state_file.exists()
    written = [models_dir, *isolated_user_folders.values()]
    for secret in (PASSWORD, f"{USER}:"):
        assert [f for folder in written for f in files_holding(folder, secret)] == []
        assert [text for text in outputs if secret in text] == []


def test_a_catalog_error_about_a_url_does_not_print_its_password(tmp_path, models_dir, capsys):
    catalog = write_catalog(tmp_path / "c.json", [entry("m", f"ftp://{USER}:{PASSWORD}@example.org/m.pt")])
    code = cli.main(["--dir", str(models_dir), "--catalog", str(catalog), "list"])
    _, err = capsys.readouterr()
    assert code == 2 and "unsupported URL scheme 'ftp'" in err and "***@example.org" in err
    assert PASSWORD not in err and USER not in err
