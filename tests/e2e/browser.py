"""Browser test plumbing: Debian's chromium driven by Playwright, a second web origin for
embedding tests, screenshots under tests/artifacts/, accessibility checks with axe-core."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.services import ROOT, free_port

ARTIFACTS = ROOT / "tests" / "artifacts"
NPM_DIR = ROOT / "var" / "npm"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("browser tests need Debian's chromium: apt-get install chromium")
    return path


def screenshot(page, name: str) -> Path:  # noqa: ANN001
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def serious_violations(page) -> list[dict]:  # noqa: ANN001
    """axe-core results of impact serious or critical on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def npm_package(name: str, version: str) -> Path:
    """Installs an npm package for the tests (never committed) and returns its folder."""
    folder = NPM_DIR / "node_modules" / name
    manifest = folder / "package.json"
    if not (manifest.exists() and f'"version": "{version}"' in manifest.read_text()):
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(NPM_DIR),
                f"{name}@{version}",
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            pytest.fail(f"npm install {name}@{version} failed:\n{done.stderr[-2000:]}")
    return folder


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@contextmanager
def static_site(directory: Path, host: str = "127.0.0.1"):
    """Serves ``directory`` on another origin than the app: http://localhost:<port> (or
    http://<host>:<port> for another loopback address)."""
    port = free_port()
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{'localhost' if host == '127.0.0.1' else host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
