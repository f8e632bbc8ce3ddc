"""The dashboard's static files: found in the package, versioned by their content.

Every asset URL carries one hash of all the files (`/ui/assets/<hash>/app.js`), so browsers
may cache them forever and still never run a stale mix after an upgrade; only the small page
at /ui/ is revalidated.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).with_name("static")
ASSETS_URL = "/ui/assets"
_PLACEHOLDER = "{{ASSETS}}"
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)
# Served types by suffix; anything else is not served.
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class UiAssets:
    root: Path
    version: str
    index_html: str
    content_security_policy: str

    @property
    def prefix(self) -> str:
        return f"{ASSETS_URL}/{self.version}"

    def file(self, version: str, relative: str) -> tuple[Path, str] | None:
        """(path, media type) of an asset of this version; None for anything else (another
        version, a path outside the assets, an unserved type)."""
        if version != self.version or relative == "index.html":
            return None
        path = (self.root / relative).resolve()
        if not path.is_file() or not path.is_relative_to(self.root.resolve()):
            return None
        media_type = MEDIA_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        if media_type is None or path.suffix not in MEDIA_TYPES:
            return None
        return path, media_type


def content_version(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_assets(root: Path = STATIC_DIR) -> UiAssets:
    """Reads the page and hashes the assets; FileNotFoundError when the package lacks them."""
    version = content_version(root)
    html = (root / "index.html").read_text().replace(_PLACEHOLDER, f"{ASSETS_URL}/{version}")
    # The import map is the page's one inline script: allowed by its hash, nothing else is.
    scripts = [
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
        for m in _IMPORT_MAP.findall(html)
    ]
    csp = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self' " + " ".join(scripts),
            "style-src 'self' 'unsafe-inline'",  # uPlot and the charts size elements inline
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return UiAssets(root=root, version=version, index_html=html, content_security_policy=csp)
