"""A models folder two Unix users of one group share: group-writable files when the folder is setgid,
the umask respected otherwise, and locks that are POSIX record locks (the kind NFS carries across hosts).

The two users and their group are real: created with groupadd/useradd for the test and removed after it,
even when it fails. The command line runs as each user (setpriv) against the loopback server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from filelock import Timeout

from ofa_manager.core import sharing
from ofa_manager.core.library import Library
from tests.catalogs import REPO, bytes_served, entry, load, payload, sha256, write_catalog

SIZE = 3 * 1024 * 1024
DATA = payload(SIZE, 7)
TOOLS = ("groupadd", "useradd", "userdel", "groupdel", "setpriv")


def _python_for_others() -> str | None:
    """A Python other users may run: this one when its folders let them in, else the system's."""
    for candidate in (os.path.realpath(sys.executable), shutil.which("python3.11"), "/usr/bin/python3"):
        if candidate and os.path.exists(candidate) and _reachable_by_others(candidate):
            return candidate
    return None


def _reachable_by_others(path: str) -> bool:
    parts = Path(path).parents
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in parts) and bool(
        os.stat(path).st_mode & stat.S_IXOTH
    )


class Users:
    """Two users, A and B, in one new group; each with a home and XDG folders of their own."""

    def __init__(self, base: Path) -> None:
        tag = uuid.uuid4().hex[:6]
        self.group = f"ofag{tag}"
        self.names = {"A": f"ofaa{tag}", "B": f"ofab{tag}"}
        self.base = base
        self.made: list[tuple[str, str]] = []

    def create(self) -> None:
        subprocess.run(["groupadd", self.group], check=True, capture_output=True)
        self.made.append(("groupdel", self.group))
        for name in self.names.values():
            cmd = ["useradd", "-M", "-N", "-g", self.group, "-s", "/usr/sbin/nologin", name]
            subprocess.run(cmd, check=True, capture_output=True)
            self.made.insert(0, ("userdel", name))
        import grp
        import pwd

        self.gid = grp.getgrnam(self.group).gr_gid
        self.uid = {who: pwd.getpwnam(name).pw_uid for who, name in self.names.items()}
        for who in self.names:
            home = self.home(who)
            home.mkdir(mode=0o700)
            os.chown(home, self.uid[who], self.gid)

    def remove(self) -> None:
        for command, name in self.made:
            subprocess.run([command, name], capture_output=True)

    def home(self, who: str) -> Path:
        return self.base / f"home-{who}"

    def env(self, who: str) -> dict[str, str]:
        home = self.home(who)
        site = next((REPO / ".venv" / "lib").glob("python3*/site-packages"), None)
        paths = [str(self.base / "code"), *([str(site)] if site else [])]
        return {
            "HOME": str(home),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.pathsep.join(paths),
            "PYTHONDONTWRITEBYTECODE": "1",
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def command(self, who: str, python: str, *args: str) -> list[str]:
        return [
            "setpriv",
            f"--reuid={self.uid[who]}",
            f"--regid={self.gid}",
            "--init-groups",
            "--",
            python,
            "-m",
            "ofa_manager",
            *args,
        ]


@pytest.fixture
def users():
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("creating two Unix users needs root (these tests make and remove real accounts)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} to create the users and run commands as them")
    python = _python_for_others()
    if python is None:
        pytest.skip("no Python here that other users may run (every one lies in a folder closed to them)")
    # pytest's own temp folders are closed to other users: this one is opened to them.
    base = Path(tempfile.mkdtemp(prefix="ofa-group-", dir="/tmp"))
    base.chmod(0o755)
    made = Users(base)
    try:
        made.create()
        # A copy of the code the users can read, wherever the checkout lies.
        shutil.copytree(REPO / "ofa_manager", base / "code" / "ofa_manager")
        probe = made.command("A", python)[:-2] + ["-c", "import ofa_manager.cli, requests, filelock"]
        done = subprocess.run(probe, env=made.env("A"), capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"the users' Python cannot load ofa-manager's packages: {done.stderr.strip()[-300:]}")
        made.python = python
        yield made
    finally:
        made.remove()
        shutil.rmtree(base, ignore_errors=True)


class Folder:
    """A models folder owned by root and the users' group, and a catalog with the file's sha256."""

    def __init__(self, users: Users, http_server, *, setgid: bool) -> None:
        self.users = users
        self.dir = users.base / "models"
        self.dir.mkdir()
        os.chown(self.dir, 0, users.gid)
        self.dir.chmod(0o2775 if setgid else 0o775)
        self.route = http_server.add("/big.pt", DATA, rate=512 * 1024)
        self.server = http_server
        self.catalog = write_catalog(
            users.base / "catalog.json",
            [entry("big", http_server.url("/big.pt"), size=SIZE, sha256=sha256(DATA))],
        )
        self.catalog.chmod(0o644)
        self.library = Library(self.dir, load(self.catalog))
        self.entry = self.library.catalog.get("big")

    def start(self, who: str, *args: str, umask: int = 0o022) -> subprocess.Popen:
        cmd = self.users.command(
            who, self.users.python, "download", "big", "--dir", str(self.dir), "--catalog", str(self.catalog)
        )
        return subprocess.Popen(
            [*cmd, *args],
            env=self.users.env(who),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            umask=umask,
        )

    def kill_halfway(self, process: subprocess.Popen) -> None:
        """SIGKILL once the resume record shows data received (and before the file is complete)."""
        record = self.library.record_path(self.entry)
        while process.poll() is None:
            try:
                ranges = json.loads(record.read_text()).get("ranges", [])
            except (OSError, ValueError):
                ranges = []
            if sum(end - start for start, end in ranges) >= SIZE // 4:
                break
            time.sleep(0.05)
        assert process.poll() is None, f"the download ended before it was killed: {process.communicate()}"
        process.send_signal(signal.SIGKILL)
        process.communicate()
        assert self.library.part_path(self.entry).exists()

    def files(self) -> dict[str, os.stat_result]:
        return {p.name: os.lstat(p) for p in self.dir.iterdir()}


def test_a_second_user_resumes_the_first_ones_download_in_a_setgid_folder(users, http_server):
    folder = Folder(users, http_server, setgid=True)
    first = folder.start("A", "--connections", "2")
    folder.kill_halfway(first)
    made_by_a = folder.files()
    assert {"big.pt.part", "big.pt.part.json", ".big.pt.lock"} <= set(made_by_a)
    for name, st in made_by_a.items():
        # A's umask is 022: the group bit comes from the folder's setgid, as the administrator asked.
        assert stat.S_IMODE(st.st_mode) == 0o664, name
        assert st.st_uid == users.uid["A"] and st.st_gid == users.gid, name

    folder.route.rate = None
    second = folder.start("B")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "Permission denied" not in err and "Traceback" not in err
    assert (folder.dir / "big.pt").read_bytes() == DATA
    assert bytes_served(http_server, "/big.pt") < 2 * SIZE, "B started over instead of resuming"
    status = folder.library.status(folder.entry)
    assert status.verified and status.state.value == "downloaded"
    after = folder.files()
    assert set(after) == {"big.pt", ".big.pt.meta.json", ".big.pt.lock"}
    for name, st in after.items():
        assert stat.S_IMODE(st.st_mode) & 0o060 == 0o060 and st.st_gid == users.gid, name
    assert after[".big.pt.meta.json"].st_uid == users.uid["B"]
    assert after["big.pt"].st_uid == users.uid["A"]


def test_without_setgid_the_umask_decides_and_the_other_user_gets_a_clear_error(users, http_server):
    folder = Folder(users, http_server, setgid=False)
    first = folder.start("A", umask=0o022)
    folder.kill_halfway(first)
    for name, st in folder.files().items():
        assert stat.S_IMODE(st.st_mode) == 0o644, name

    folder.route.rate = None
    second = folder.start("B")
    out, err = second.communicate(timeout=120)
    assert second.returncode != 0
    assert "Traceback" not in err
    assert "Permission denied" in err
    assert folder.library.part_path(folder.entry).exists(), "A's partial data is kept"

    done = folder.start("A", umask=0o002)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    meta = folder.library.meta_path(folder.entry)
    assert stat.S_IMODE(os.lstat(meta).st_mode) == 0o664  # written now, with umask 002


# -- the lock itself ------------------------------------------------------------------------------


def _posix_locks_on(path: Path) -> list[str]:
    inode = os.stat(path).st_ino
    with open("/proc/locks") as fh:
        return [line for line in fh if line.split()[5].endswith(f":{inode}")]


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="reads the kernel's lock table (/proc/locks)")
def test_the_folder_lock_is_a_posix_record_lock(tmp_path):
    lock = sharing.FolderLock(tmp_path / ".x.lock")
    with lock:
        held = _posix_locks_on(tmp_path / ".x.lock")
        assert len(held) == 1 and held[0].split()[1] == "POSIX", held
    assert _posix_locks_on(tmp_path / ".x.lock") == []


def test_the_folder_lock_excludes_another_process_and_another_thread(tmp_path):
    path = tmp_path / ".x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, fcntl; f = open(sys.argv[1], 'a+'); fcntl.lockf(f, fcntl.LOCK_EX);"
            " print('held', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Timeout):
            sharing.FolderLock(path).acquire(timeout=0.2)
    finally:
        holder.communicate("")
    lock = sharing.FolderLock(path)
    with lock.acquire(timeout=1):
        with lock:  # re-entrant in the thread that holds it
            pass
        assert lock.is_locked
        outcome = []

        def other_thread() -> None:
            try:
                sharing.FolderLock(path).acquire(timeout=0.2)
                outcome.append("acquired")
            except Timeout:
                outcome.append("timed out")

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert outcome == ["timed out"]
        assert len(_posix_locks_on(path)) == 1, "the other thread's attempt must not drop this lock"
    assert not lock.is_locked
    with sharing.FolderLock(path).acquire(timeout=0):
        pass


def test_the_mode_of_new_files_follows_the_folder(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir(mode=0o755)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2775)
    old = os.umask(0o027)
    try:
        assert sharing.file_mode(plain) == 0o640
        assert sharing.file_mode(shared) == 0o664
    finally:
        os.umask(old)
    no_group_write = tmp_path / "setgid-only"
    no_group_write.mkdir()
    no_group_write.chmod(0o2755)
    assert not sharing.is_group_shared(no_group_write)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="gives a file another group (root only)")
def test_a_file_moved_into_a_shared_folder_takes_its_group_and_group_write(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chown(shared, 0, 4242)  # any group number: root may give it
    shared.chmod(0o2775)
    moved = tmp_path / "ofa_tiny.pt"
    moved.write_bytes(b"data")
    moved.chmod(0o600)
    os.replace(moved, shared / moved.name)  # what a move of the models folder does
    sharing.share_moved_file(shared / moved.name)
    st = os.stat(shared / moved.name)
    assert st.st_gid == 4242 and stat.S_IMODE(st.st_mode) == 0o660
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir(mode=0o755)
    (elsewhere / "x.pt").write_bytes(b"data")
    (elsewhere / "x.pt").chmod(0o600)
    sharing.share_moved_file(elsewhere / "x.pt")
    assert stat.S_IMODE(os.stat(elsewhere / "x.pt").st_mode) == 0o600
