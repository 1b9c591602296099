"""A real nginx running packaging/nginx/ofa-lab-cache.conf in front of the loopback test server."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "packaging" / "nginx" / "ofa-lab-cache.conf"
BUCKET = "https://ofa-beijing.oss-cn-beijing.aliyuncs.com"


def nginx_binary() -> str | None:
    """The nginx program, if installed (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def missing_nginx() -> str | None:
    """Why the lab cache cannot run here, or None when it can."""
    binary = nginx_binary()
    if binary is None:
        return "nginx is not installed (sudo apt-get install nginx; .ci/run installs it)"
    built = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=30)
    if "--with-http_slice_module" not in built.stderr + built.stdout:
        return f"{binary} was built without the slice module"
    return None


def filled_config(template: str, *, upstream: str, port: int, cache_dir: Path, access_log: Path) -> str:
    """The shipped configuration with the values an administrator changes set for this machine.

    Each marked value must be found exactly once, so a change to the shipped file that this misses
    fails here rather than testing something else.
    """
    substitutions = [
        (r"proxy_cache_path /var/cache/nginx/ofa ", f"proxy_cache_path {cache_dir} "),
        (r"listen 8080;", f"listen 127.0.0.1:{port};"),
        (r"access_log /var/log/nginx/ofa-lab-cache.log ", f"access_log {access_log} "),
        (rf"proxy_pass {re.escape(BUCKET)};", f"proxy_pass {upstream};"),
    ]
    text = template
    for pattern, replacement in substitutions:
        text, count = re.subn(pattern, lambda _m, r=replacement: r, text)
        if count != 1:
            raise AssertionError(f"{CONFIG.name}: expected one {pattern!r}, found {count}")
    return text


@dataclass
class LogLine:
    """One line of the cache's access log (one per request and per slice subrequest)."""

    request: str
    status: int
    body_bytes: int
    slice: str
    cache: str
    upstream_bytes: int
    connection: int


_LINE = re.compile(
    r'"(?P<request>[^"]*)" (?P<status>\d+) (?P<body>\d+) slice="(?P<slice>[^"]*)" '
    r"cache=(?P<cache>\S+) upstream_bytes=(?P<upstream>.*?) time=\S+ conn=(?P<conn>\d+)"
)


def _number(text: str) -> int:
    # Several upstream tries are listed as "a, b"; none is "-".
    return sum(int(part) for part in re.findall(r"\d+", text))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabCache:
    """nginx with the lab cache configuration, its cache, logs and temp files in ``workdir``.

    Runs in the foreground as a child of this process (no daemon, no system folders touched).
    """

    def __init__(self, workdir: Path, upstream: str, *, workers: int = 1) -> None:
        self.workdir = Path(workdir)
        self.upstream = upstream
        self.workers = workers
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.cache_dir = self.workdir / "cache"
        self.access_log = self.workdir / "access.log"
        self.error_log = self.workdir / "error.log"

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> LabCache:
        binary = nginx_binary()
        assert binary is not None, missing_nginx()
        for folder in ("cache", "temp/client", "temp/proxy", "temp/fastcgi", "temp/uwsgi", "temp/scgi"):
            (self.workdir / folder).mkdir(parents=True, exist_ok=True)
        for attempt in range(5):
            # Started again (after stop()), it keeps its address, as a restarted server does.
            if not (attempt == 0 and self.port):
                self.port = _free_port()
            self._write_config()
            self.process = subprocess.Popen(
                [
                    binary,
                    "-p",
                    str(self.workdir),
                    "-e",
                    str(self.error_log),
                    "-c",
                    str(self.workdir / "nginx.conf"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_listening():
                return self
            self.stop()
            if "Address already in use" not in self.errors():
                break
        raise RuntimeError(f"nginx did not start:\n{self.errors()}")

    def _write_config(self) -> None:
        site = filled_config(
            CONFIG.read_text(encoding="utf-8"),
            upstream=self.upstream,
            port=self.port,
            cache_dir=self.cache_dir,
            access_log=self.access_log,
        )
        (self.workdir / "ofa-lab-cache.conf").write_text(site, encoding="utf-8")
        temp = self.workdir / "temp"
        # As root, workers would switch to "nobody" and could not write the cache in a private temp folder.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.workdir / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes {self.workers};\npid {self.workdir / 'nginx.pid'};\n"
            f"error_log {self.error_log} info;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"    client_body_temp_path {temp / 'client'};\n"
            f"    proxy_temp_path {temp / 'proxy'};\n"
            f"    fastcgi_temp_path {temp / 'fastcgi'};\n"
            f"    uwsgi_temp_path {temp / 'uwsgi'};\n"
            f"    scgi_temp_path {temp / 'scgi'};\n"
            f"    include {self.workdir / 'ofa-lab-cache.conf'};\n"
            "}\n",
            encoding="utf-8",
        )

    def _wait_listening(self, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def errors(self) -> str:
        """nginx's error log (and what it printed before it could open the log)."""
        text = self.error_log.read_text(errors="replace") if self.error_log.exists() else ""
        process = self.process
        if process is not None and process.poll() is not None and process.stderr is not None:
            text += process.stderr.read().decode(errors="replace")
        return text

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        # Graceful first (requests in flight finish and are logged), then fast, then kill.
        for how in (signal.SIGQUIT, signal.SIGTERM, signal.SIGKILL):
            if process.poll() is not None:
                break
            process.send_signal(how)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                continue
        if process.stderr:
            process.stderr.close()

    def __enter__(self) -> LabCache:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log(self) -> list[LogLine]:
        """The access log so far (nginx writes each line when its request or slice ends)."""
        lines = []
        text = self.access_log.read_text(errors="replace") if self.access_log.exists() else ""
        for raw in text.splitlines():
            match = _LINE.search(raw)
            if match:
                lines.append(
                    LogLine(
                        request=match["request"],
                        status=int(match["status"]),
                        body_bytes=int(match["body"]),
                        slice=match["slice"],
                        cache=match["cache"],
                        upstream_bytes=_number(match["upstream"]),
                        connection=int(match["conn"]),
                    )
                )
        return lines
