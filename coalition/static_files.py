"""Static addresses: ``url_for('static', ...)`` gives ``/static/<file>?v=<hash of the file>``.

nginx (``deploy/nginx.conf``) serves ``/static/`` itself and lets browsers keep such an
address for a year: a changed file gets a new address, so nobody keeps an old stylesheet
after a release. A file has one address in every language (``/static/...``, never
``/es/static/...``), so a visitor who switches language fetches nothing again.
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, has_request_context, request

from coalition.i18n import LANGUAGE_ENVIRON_KEY

#: Hex digits of the file's SHA-256 in its address: enough that two versions never meet.
VERSION_LENGTH = 12


def init_app(app: Flask) -> None:
    """Add the file's version to every static address the app builds."""
    versions: dict[str, str] = {}

    def version_of(filename: str) -> str | None:
        if filename not in versions:
            path = os.path.join(app.static_folder or "", filename)
            try:
                with open(path, "rb") as handle:
                    versions[filename] = hashlib.sha256(handle.read()).hexdigest()[:VERSION_LENGTH]
            except OSError:
                return None  # a missing file: its plain address, and the 404 says the rest
        return versions[filename]

    @app.url_defaults
    def _static_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and values.get("filename"):
            version = version_of(values["filename"])
            if version:
                values["v"] = version

    language_url_for = app.url_for

    def url_for(endpoint: str, **values) -> str:
        url = language_url_for(endpoint, **values)
        if endpoint == "static" and has_request_context():
            language = request.environ.get(LANGUAGE_ENVIRON_KEY)
            prefixed = request.script_root  # ends with "/<language>" on a translated page
            if language and prefixed.endswith("/" + language) and url.startswith(prefixed + "/"):
                url = prefixed[: -len(language) - 1] + url[len(prefixed):]
        return url

    # flask.url_for (in views) calls the app's; templates hold their own reference to it.
    app.url_for = url_for  # type: ignore[method-assign]
    app.jinja_env.globals["url_for"] = url_for
