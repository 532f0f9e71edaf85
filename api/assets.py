"""Static files under ``api/static`` with content-hashed URLs.

``/static/<digest>/<name>`` may be cached for a year (the digest changes with the file);
``/widget.js`` is the one unversioned URL sites embed, so it is cached for minutes and
points at the versioned widget code.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    digest: str

    @property
    def url(self) -> str:
        return f"/static/{self.digest}/{self.name}"

    @property
    def media_type(self) -> str:
        if self.name.endswith(".js"):
            return "text/javascript; charset=utf-8"
        guessed, _ = mimetypes.guess_type(self.name)
        return guessed or "application/octet-stream"


class Assets:
    """Reads every static file once (they are small) and names each by its content hash."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.directory = directory

    @cached_property
    def files(self) -> dict[str, Asset]:
        found = {}
        for path in sorted(self.directory.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                name = path.relative_to(self.directory).as_posix()
                body = path.read_bytes()
                found[name] = Asset(name, body, hashlib.sha256(body).hexdigest()[:12])
        return found

    def get(self, name: str) -> Asset | None:
        return self.files.get(name)

    def url(self, name: str) -> str:
        """The versioned URL of a static file (templates call this)."""
        return self.files[name].url

    @cached_property
    def loader(self) -> Asset:
        """``/widget.js``: the loader with the versioned widget URL filled in."""
        template = self.files["widget-loader.js"].body.decode()
        body = template.replace("__WIDGET_SRC__", self.url("widget/supportbot-widget.js")).encode()
        return Asset("widget.js", body, hashlib.sha256(body).hexdigest()[:12])


assets = Assets()
