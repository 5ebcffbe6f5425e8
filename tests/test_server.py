"""site-builder serve: the preview over HTTP, rebuilt on save, with errors in the browser, refusing
anything outside the site, and reloading a real browser.

Each test starts ``site-builder serve --port 0`` in a subprocess on a copy of the ``preview`` fixture
(base URL https://preview.example/trust/) and reads the address it prints.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from conftest import REPO_ROOT
from quality_tools import start_chromium
from site_builder.errors import Position, Problem
from site_builder.serve.server import (
    BIG_FILE,
    BuildReport,
    Console,
    PreviewServer,
    ServeOptions,
    error_page,
    host_allowed,
    preview_html,
    resolve,
    widen_policy,
    write_changes,
)
from site_builder.serve.watch import make_watcher

STARTUP_SECONDS = 90  # a cold start on a busy CI machine
EDIT_SECONDS = 30


@dataclass
class Preview:
    """A running ``site-builder serve``: its address and what it printed so far."""

    process: subprocess.Popen
    project: Path
    url: str = ""  # e.g. http://127.0.0.1:40123/trust/
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1", "SOURCE_DATE_EPOCH": "1751328000"}


def serve_command(project: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "site_builder", "serve", "--project", str(project), *args]


@contextmanager
def running(project: Path, *args: str) -> Iterator[Preview]:
    process = subprocess.Popen(serve_command(project, "--port", "0", *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(), cwd=project)
    preview = Preview(process, project)

    def pump(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)

    threads = [threading.Thread(target=pump, args=(process.stdout, preview.stdout), daemon=True), threading.Thread(target=pump, args=(process.stderr, preview.stderr), daemon=True)]
    for thread in threads:
        thread.start()
    try:
        found = wait_for(lambda: re.search(r"Serving .* at (http://\S+)", "".join(preview.stdout)) or process.poll() is not None, STARTUP_SECONDS)
        assert process.poll() is None and found, f"serve did not start:\n{preview.output()}"
        preview.url = re.search(r"Serving .* at (http://\S+)", "".join(preview.stdout)).group(1)  # type: ignore[union-attr]
        yield preview
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for thread in threads:
            thread.join(timeout=5)


def wait_for(condition: Callable[[], object], seconds: float = EDIT_SECONDS) -> object:
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def raw_request(port: int, target: str, host: str | None = None) -> tuple[int, bytes]:
    """One request exactly as written, so no client library normalises the path first."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def project(copy_fixture, tmp_path: Path) -> Path:
    return copy_fixture("preview", tmp_path)


# ------------------------------------------------------------------------------------ over HTTP


def test_serves_the_site_under_the_base_url_path(project: Path) -> None:
    with running(project) as preview:
        assert preview.url.endswith("/trust/") and preview.url.startswith("http://127.0.0.1:")
        status, headers, body = fetch(preview.url)
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert b"Preview Example Security Policy" in body and b"Draft, not yet in effect" in body  # serve shows the draft
        assert f'<script src="/livereload.js?port={preview.port}" defer></script>\n</head>'.encode() in body
        status, headers, body = fetch(preview.url + "static/css/site.css")
        assert status == 200 and headers["Content-Type"].startswith("text/css") and b"livereload" not in body
        status, _, body = fetch(preview.origin + "/livereload.js")
        assert status == 200 and b"LiveReload" in body
        status, _, body = fetch(preview.url + "apps/status-timer/")
        assert status == 200 and b"Status Timer" in body
        connection = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=30)
        for path, location in (("/", "/trust/"), ("/trust", "/trust/"), ("/trust/apps", "/trust/apps/")):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert (response.status, response.getheader("Location")) == (302, location), path
        status, _, body = fetch(preview.url + "no-such-page.html")
        assert status == 404 and b"Page not found" in body and b"/livereload.js" in body
        status, _, _ = fetch(preview.origin + "/elsewhere/index.html")
        assert status == 404


def test_serves_exactly_what_build_writes_plus_the_reload_script_and_never_touches_build(project: Path, build_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", environment()["SOURCE_DATE_EPOCH"])  # security.txt's Expires
    out = tmp_path / "built"
    code, _, err = build_project(project, out, "--draft")
    assert code == 0, err
    with running(project) as preview:
        for file in sorted(p for p in out.rglob("*") if p.is_file() and p.name != ".site-builder-output"):
            path = file.relative_to(out).as_posix()
            status, _, served = fetch(preview.url + path)
            built = file.read_bytes()
            assert status == 200, path
            if path.endswith(".html"):
                assert b"livereload" not in built
                assert served == preview_html(built, "127.0.0.1", preview.port), path
            else:
                assert served == built, path
    assert not (project / "build").exists()


def test_an_edit_is_rebuilt_and_served(project: Path) -> None:
    with running(project) as preview:
        edit(project / "content/policy/02-encryption.md", "TLS 1.2 or later", "TLS 1.3 only")
        assert wait_for(lambda: b"TLS 1.3 only" in fetch(preview.url)[2]), preview.output()
        assert re.search(r"Rebuilt in \d+ ms: 1 page rendered", preview.output()), preview.output()


def test_broken_content_shows_every_problem_in_the_browser_and_the_terminal_until_fixed(project: Path) -> None:
    section = project / "content/policy/02-encryption.md"
    good_section = section.read_text(encoding="utf-8")
    site = project / "content/site.yaml"
    good_site = site.read_text(encoding="utf-8")
    with running(project) as preview:
        section.write_text(good_section.replace("anchor: encryption", "anchor: [encryption"), encoding="utf-8")
        site.write_text(good_site + "colour: blue\n", encoding="utf-8")
        assert wait_for(lambda: fetch(preview.url)[0] == 500 and b"site.yaml" in fetch(preview.url)[2]), preview.output()
        status, _, body = fetch(preview.url + "apps/status-timer/")
        page = body.decode()
        assert status == 500 and "The site cannot be built: 2 problems" in page
        assert "<code>content/policy/02-encryption.md:4:" in page and "invalid YAML" in page
        assert "<code>content/site.yaml:19:1</code>" in page and "unknown key &#x27;colour&#x27;" in page
        assert wait_for(lambda: "2 errors" in preview.output())
        terminal = preview.output()
        assert re.search(r"^content/policy/02-encryption\.md:4:\d+: invalid YAML", terminal, re.MULTILINE), terminal
        assert re.search(r"^content/site\.yaml:19:1: unknown key 'colour'", terminal, re.MULTILINE), terminal
        assert fetch(preview.url + "static/css/site.css")[0] == 200  # assets of the last good build still load
        section.write_text(good_section.replace("TLS 1.2 or later", "TLS 1.2 or later, fixed"), encoding="utf-8")
        site.write_text(good_site, encoding="utf-8")
        assert wait_for(lambda: fetch(preview.url)[0] == 200), preview.output()
        assert b"TLS 1.2 or later, fixed" in fetch(preview.url)[2]


TRAVERSALS = [
    "/trust/../../../../../../etc/passwd",
    "/trust/../content/site.yaml",
    "/../../../../etc/passwd",
    "/trust/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/trust/%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/trust/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/trust/%252e%252e/%252e%252e/%252e%252e/etc/passwd",
    "/trust/..%5c..%5c..%5c..%5cetc%5cpasswd",
    "/trust/..\\..\\..\\..\\etc\\passwd",
    "/trust/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/trust//etc/passwd",
    "/trust/%2fetc%2fpasswd",
    "//etc/passwd",
    "/etc/passwd",
    "/trust/./index.html",
    "/trust/index.html%00.css",
    "/trust/C:/Windows/win.ini",
    "http://127.0.0.1/../../../../etc/passwd",
]


def test_paths_outside_the_site_are_refused(project: Path) -> None:
    with running(project) as preview:
        for target in TRAVERSALS:
            status, body = raw_request(preview.port, target)
            assert status in (400, 404), (target, status)
            assert b"root:" not in body and b"base_url:" not in body, target
        assert raw_request(preview.port, "/trust/index.html")[0] == 200  # the same socket code does fetch real pages


def test_symbolic_links_and_tricks_never_resolve_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "apps").mkdir(parents=True)
    (root / "index.html").write_text("home", encoding="utf-8")
    (root / "apps" / "index.html").write_text("apps", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    (root / "link.txt").symlink_to(secret)
    (root / "outside").symlink_to(tmp_path)
    (root / "inside.html").symlink_to(root / "index.html")  # even inside the root: the build never writes links
    base = str(root.resolve())
    assert resolve(base, "/trust/", "/trust/").location == os.path.join(base, "index.html")
    assert resolve(base, "/trust/", "/trust/apps").location == "/trust/apps/"
    for path in ("/trust/link.txt", "/trust/outside/secret.txt", "/trust/inside.html", "/trust/%2E%2E/secret.txt", "/trust/" + str(secret), "/trust/apps/../index.html", "/trust/\u00ff%ff"):
        assert resolve(base, "/trust/", path).kind == "missing", path


def test_answers_only_to_localhost_names(project: Path) -> None:
    with running(project) as preview:
        assert raw_request(preview.port, "/trust/", host="attacker.example")[0] == 403  # DNS rebinding
        assert raw_request(preview.port, "/trust/", host=f"localhost:{preview.port}")[0] == 200
    assert host_allowed("anything.example:8000", "0.0.0.0")  # asked for: any name then
    assert host_allowed("[::1]:8000", "127.0.0.1") and not host_allowed("127.0.0.1.attacker.example", "127.0.0.1")


def test_the_reload_message_follows_an_edit_over_livereloads_protocol(project: Path) -> None:
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    with running(project) as preview:
        endpoint = f"ws://127.0.0.1:{preview.port}/livereload"

        async def converse() -> dict:
            with pytest.raises(HTTPClientError):  # a page of another site may not listen in
                await websocket_connect(HTTPRequest(endpoint, headers={"Origin": "http://attacker.example"}))
            socket_ = await websocket_connect(HTTPRequest(endpoint, headers={"Origin": preview.origin}))
            await socket_.write_message(json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}))
            hello = json.loads(await socket_.read_message())
            assert hello["command"] == "hello" and "http://livereload.com/protocols/official-7" in hello["protocols"]
            await socket_.write_message(json.dumps({"command": "info", "url": preview.url, "plugins": {}}))
            section = project / "content/policy/01-introduction.md"
            message: dict = {}
            for attempt in range(3):  # the server may take the 'info' that makes us a listener after an edit
                section.write_text(section.read_text(encoding="utf-8") + f"\nEdit {attempt}.\n", encoding="utf-8")
                try:
                    message = json.loads(await asyncio.wait_for(socket_.read_message(), EDIT_SECONDS / 3))
                    break
                except asyncio.TimeoutError:
                    continue
            socket_.close()
            return message

        message = asyncio.run(converse())
        assert message["command"] == "reload" and message["path"] == "/trust/"


def test_a_port_in_use_is_named_with_a_free_one(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(serve_command(project, "--port", str(port)), capture_output=True, text=True, env=environment(), timeout=STARTUP_SECONDS)
    assert result.returncode == 1, result.stderr
    match = re.search(rf"port {port} on 127\.0\.0\.1 is already in use .*; port (\d+) is free: site-builder serve --port \1", result.stderr)
    assert match, result.stderr
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", int(match.group(1))))  # it was indeed free


def test_other_hosts_are_served_only_with_a_warning(project: Path) -> None:
    with running(project, "--host", "0.0.0.0") as preview:
        assert fetch(preview.url)[0] == 200
    assert "warning: listening on 0.0.0.0: anyone who can reach this computer can read the preview" in preview.output()


def test_the_draft_by_default_and_the_release_with_no_draft(project: Path, run_cli) -> None:
    code, _, err = run_cli("release", "--project", project, "1.0", "--date", "2025-06-02", "--summary", "First version.")
    assert code == 0, err
    edit(project / "content/policy/02-encryption.md", "TLS 1.2 or later", "TLS 1.3, not yet released")
    with running(project) as preview:
        body = fetch(preview.url)[2]
        assert b"TLS 1.3, not yet released" in body and b"Draft, not yet in effect" in body
    with running(project, "--no-draft") as preview:
        body = fetch(preview.url)[2]
        assert b"TLS 1.2 or later" in body and b"TLS 1.3" not in body and b"Draft, not yet in effect" not in body


# ------------------------------------------------------------------------------------ the parts


def test_widening_the_policy_allows_the_reload_client_and_nothing_else() -> None:
    strict = "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'"
    assert widen_policy(strict, "ws://127.0.0.1:8000") == strict + "; script-src 'self'; connect-src 'self' ws://127.0.0.1:8000"
    assert widen_policy("script-src 'none'; connect-src https://api.example", "ws://h:1") == "script-src 'self'; connect-src https://api.example 'self' ws://h:1"
    page = b"<!doctype html><html><head><META content='default-src &#39;none&#39;' http-equiv=Content-Security-Policy></head><body></body></html>"
    served = preview_html(page, "localhost", 9000).decode()
    assert "content='default-src &#39;none&#39;; script-src &#39;self&#39;; connect-src &#39;self&#39; ws://localhost:9000'" in served
    assert served.index('<script src="/livereload.js?port=9000" defer></script>') < served.index("</head>")
    assert preview_html(b"<p>no head</p>", "localhost", 9000).endswith(b'<script src="/livereload.js?port=9000" defer></script>\n')


def test_the_error_page_escapes_what_it_shows() -> None:
    page = error_page([Problem(Position("content/<x>.md", 3, 1), "bad <script>", "key", "hint & more")], "/p").decode()
    assert "<code>content/&lt;x&gt;.md:3:1</code>" in page and "bad &lt;script&gt;" in page and "hint &amp; more" in page
    assert "<script" not in page


def test_a_burst_of_changes_is_one_rebuild_and_changes_during_a_build_one_more(tmp_path: Path) -> None:
    said: list[str] = []
    server = PreviewServer(ServeOptions(project=tmp_path, debounce=0.05), Console(say=said.append, problems=lambda problems: None))

    class CountingBuilder:
        calls = 0
        seconds = 0.0
        told: list[set[str] | None] = []

        def build(self, changed: set[str] | None = None, *, first: bool = False) -> BuildReport:
            CountingBuilder.calls += 1
            CountingBuilder.told.append(changed)
            time.sleep(self.seconds)
            return BuildReport(True, (), "/", changed=("index.html",))

        def close(self) -> None:
            pass

    class ExhaustiveWatcher:
        exhaustive = True

        def stop(self) -> None:
            pass

    server.builder.close()
    server.builder = CountingBuilder()  # type: ignore[assignment]
    server.watcher = ExhaustiveWatcher()  # type: ignore[assignment]

    async def scenario() -> None:
        from tornado.ioloop import IOLoop

        server._loop = IOLoop.current()
        for index in range(20):  # one save-all of twenty files
            server._changed({f"content/policy/{index:02d}-x.md"})
        await asyncio.sleep(0.6)
        assert CountingBuilder.calls == 1
        CountingBuilder.seconds = 0.4
        server._changed({"content/site.yaml"})
        await asyncio.sleep(0.15)  # that build is running now
        server._changed({"content/a.md"})
        server._changed({"content/b.md"})
        await asyncio.sleep(1.5)
        assert CountingBuilder.calls == 3
        # each rebuild is told every path that changed since the one before (LoadMemo.trust)
        assert CountingBuilder.told == [{f"content/policy/{index:02d}-x.md" for index in range(20)}, {"content/site.yaml"}, {"content/a.md", "content/b.md"}]

    try:
        asyncio.run(scenario())
    finally:
        server.close()
    assert said.count("Rebuilt in 0 ms: 0 pages rendered, 0 reused, 1 file changed") == 3  # one line per rebuild


@pytest.mark.parametrize("kind", ["events", "scan", "livereload"])
def test_each_watcher_reports_a_saved_file(tmp_path: Path, kind: str) -> None:
    content = tmp_path / "content"
    content.mkdir()
    section = content / "a.md"
    section.write_text("one", encoding="utf-8")
    seen: queue.Queue[set[str]] = queue.Queue()
    watcher = make_watcher(kind, [content, tmp_path / "templates"])
    watcher.start(seen.put)
    try:
        time.sleep(0.3)
        section.write_text("two, longer", encoding="utf-8")
        assert any(path.endswith("a.md") for path in seen.get(timeout=10))
        if kind == "events":  # a folder made after the start is watched from then on
            (tmp_path / "templates").mkdir()
            time.sleep(0.3)
            (tmp_path / "templates" / "base.html").write_text("x", encoding="utf-8")
            assert wait_for(lambda: any(p.endswith("base.html") for p in _drain(seen)), 10)
    finally:
        watcher.stop()


def _drain(seen: "queue.Queue[set[str]]") -> set[str]:
    found: set[str] = set()
    while not seen.empty():
        found |= seen.get()
    return found


# ------------------------------------------------------------------------------------ a real browser


@pytest.mark.browser
def test_the_open_page_reloads_itself_after_an_edit(project: Path, tmp_path: Path) -> None:
    with running(project) as preview:
        driver = start_chromium(tmp_path / "chromium-profile")
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            driver.set_page_load_timeout(60)
            driver.get(preview.url)
            connected = "return !!(window.LiveReload && window.LiveReload.connector && window.LiveReload.connector.protocol)"
            WebDriverWait(driver, 30).until(lambda d: d.execute_script(connected))
            driver.execute_script("window.notReloadedYet = true;")
            section = project / "content/policy/02-encryption.md"
            reloaded = "return window.notReloadedYet === undefined && document.readyState === 'complete'"
            for attempt in range(3):  # the client's 'info', which makes it a listener, follows the handshake
                section.write_text(section.read_text(encoding="utf-8") + f"\nEdited in the browser test, take {attempt}.\n", encoding="utf-8")
                if wait_for(lambda: driver.execute_script(reloaded), EDIT_SECONDS / 3):
                    break
            assert driver.execute_script(reloaded), preview.output()
            WebDriverWait(driver, EDIT_SECONDS).until(lambda d: "Edited in the browser test" in d.find_element("id", "main").text)
            blocked = [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"] or "Refused" in entry["message"]]
            assert blocked == [], blocked
        finally:
            driver.quit()


def test_a_big_file_is_replaced_whole_and_its_old_copy_freed_off_the_rebuild(tmp_path: Path) -> None:
    """The old copy of a big output keeps a link in the trash while it is replaced; a thread unlinks it."""
    out, trash = tmp_path / "site", tmp_path / "site-replaced"
    out.mkdir()
    trash.mkdir()
    big, small = b"a" * BIG_FILE, b"<p>small</p>"
    write_changes(out, {"trust.json": big, "index.html": small}, ["trust.json", "index.html"], [], trash)
    old_inode = (out / "trust.json").stat().st_ino
    newer = b"b" * (BIG_FILE + 1)
    write_changes(out, {"trust.json": newer, "index.html": small}, ["trust.json"], [], trash)
    assert (out / "trust.json").read_bytes() == newer and (out / "trust.json").stat().st_ino != old_inode
    deadline = time.monotonic() + 10
    while any(trash.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(trash.iterdir())  # the old copy was linked there, then unlinked by the thread
    assert sorted(path.name for path in out.iterdir()) == ["index.html", "trust.json"]  # no partial file left behind
