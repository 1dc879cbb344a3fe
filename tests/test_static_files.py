"""Static addresses: one per file in every language, versioned by the file's content."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from coalition import PROJECT_ROOT


def _static_links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]*static/[^"]+)"', html)


def test_static_links_carry_the_files_version_in_both_languages(client):
    css = (Path(PROJECT_ROOT) / "static" / "css" / "site.css").read_bytes()
    version = hashlib.sha256(css).hexdigest()[:12]
    for path in ("/about", "/es/about"):
        links = _static_links(client.get(path).get_data(as_text=True))
        assert f"/static/css/site.css?v={version}" in links, links
        assert all(link.startswith("/static/") and "?v=" in link for link in links), links


def test_a_versioned_address_still_serves_the_file_without_nginx(client):
    with client.get("/static/css/site.css?v=anything") as response:
        assert response.status_code == 200
        assert response.data == (Path(PROJECT_ROOT) / "static" / "css" / "site.css").read_bytes()
