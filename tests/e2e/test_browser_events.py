"""The event stream in a real browser: headless Chromium loads a page (served
from another origin, as an application's would be) that opens an
`EventSource` on the events port, through a TCP proxy the test can cut.
A post shows up on the page; the connection is then cut, a post is made
while the page is away, and after the browser reconnects on its own (with
the `Last-Event-ID` it keeps) the page shows that post too."""

import http.server
import json
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from conftest import PROCESS_LIFETIME, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>feed</title></head>
<body><ol id="feed"></ol>
<script>
const params = new URLSearchParams(location.search);
function report(kind, extra) {
  const shown = Array.from(document.querySelectorAll('#feed li')).map(li => li.textContent);
  fetch('/report', {method: 'POST', body: JSON.stringify(Object.assign({kind, shown}, extra || {}))});
}
const source = new EventSource(params.get('stream'));
source.onopen = () => report('open');
source.onerror = () => report('error', {state: source.readyState});
source.onmessage = (message) => {
  const event = JSON.parse(message.data);
  if (event.event === 'post') {
    const item = document.createElement('li');
    item.dataset.id = event.id;
    item.textContent = event.author + ': ' + event.body;
    document.getElementById('feed').appendChild(item);
  }
  report('message', {id: event.id, lastEventId: message.lastEventId});
};
</script></body></html>
"""


class PageServer:
    """Serves the page and collects what it reports, on its own origin."""

    def __init__(self):
        self.reports = queue.Queue()
        reports = self.reports

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = PAGE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                reports.put(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                report = self.reports.get(timeout=max(0.0, deadline - time.time()))
            except queue.Empty:
                break
            if predicate(report):
                return report
        raise AssertionError("the page did not report it in time")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class CuttableProxy:
    """Forwards TCP to `target`; `cut()` drops every connection and refuses
    new ones until `restore()`: a network that goes away and comes back."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.sockets = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source, destination):
        try:
            while data := source.recv(65536):
                destination.sendall(data)
        except OSError:
            pass
        for sock in (source, destination):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.up = False
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.sockets = []

    def restore(self):
        self.up = True

    def close(self):
        self.cut()
        self.listener.close()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_browser_sees_posts_live_and_after_a_reconnect(start_server):
    events_port = free_port()
    server = start_server("--events-port", str(events_port))
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    token = client.execute_command("FEED.TOKEN", "bob", 600)

    page = PageServer()
    proxy = CuttableProxy(events_port)
    profile = tempfile.mkdtemp(prefix="feed-chromium-")
    stream = f"http://127.0.0.1:{proxy.port}/events/bob?token={token}"
    url = f"http://127.0.0.1:{page.port}/?stream={stream.replace('&', '%26').replace('?', '%3F')}"
    browser = subprocess.Popen(
        ["timeout", "-k", "5", PROCESS_LIFETIME, CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
         "--disable-dev-shm-usage", "--no-first-run", f"--user-data-dir={profile}", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        page.wait_for(lambda r: r["kind"] == "open", timeout=60)

        live = client.execute_command("FEED.POST", "alice", "hello, browser ☃")
        shown = page.wait_for(lambda r: r["kind"] == "message" and r["id"] == live)
        assert shown["lastEventId"] == live
        assert shown["shown"] == ["alice: hello, browser ☃"]

        proxy.cut()
        page.wait_for(lambda r: r["kind"] == "error")
        missed = client.execute_command("FEED.POST", "alice", "made while the page was away")
        time.sleep(0.5)
        proxy.restore()

        # The browser reconnects by itself, sends Last-Event-ID, and the
        # replay brings the missed post; then the stream is live again.
        shown = page.wait_for(lambda r: r["kind"] == "message" and r["id"] == missed)
        assert shown["shown"] == ["alice: hello, browser ☃", "alice: made while the page was away"]
        after = client.execute_command("FEED.POST", "alice", "and live again")
        shown = page.wait_for(lambda r: r["kind"] == "message" and r["id"] == after)
        assert shown["shown"] == [
            "alice: hello, browser ☃", "alice: made while the page was away", "alice: and live again",
        ]
    finally:
        try:
            os.killpg(browser.pid, 9)
        except ProcessLookupError:
            pass
        browser.wait(30)
        proxy.close()
        page.close()
        shutil.rmtree(profile, ignore_errors=True)
