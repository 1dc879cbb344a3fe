"""The Spanish catalog: complete, not fuzzy, placeholders intact, compiled, and used."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from coalition import PROJECT_ROOT

CATALOG_DIR = Path(PROJECT_ROOT, "coalition", "translations", "es", "LC_MESSAGES")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
METHOD_MAP = [("coalition/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


@pytest.fixture(scope="module")
def catalog():
    with open(CATALOG_DIR / "messages.po", "rb") as handle:
        return read_po(handle, locale="es")


def _source_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        PROJECT_ROOT, METHOD_MAP, keywords=KEYWORDS, options_map={"templates/**.txt": {}}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_in_the_source_is_translated_and_not_fuzzy(catalog):
    missing, untranslated, fuzzy = [], [], []
    for msgid in sorted(_source_messages()):
        entry = catalog.get(msgid)
        if entry is None:
            missing.append(msgid)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            untranslated.append(msgid)
        if entry.fuzzy:
            fuzzy.append(msgid)
    report = "\n".join(
        [f"missing from the catalog: {m!r}" for m in missing]
        + [f"untranslated: {m!r}" for m in untranslated]
        + [f"fuzzy: {m!r}" for m in fuzzy]
    )
    assert not (missing or untranslated or fuzzy), (
        "Spanish catalog incomplete (run `make translations-update`, translate, then `make translations`):\n" + report
    )


def test_translations_keep_their_placeholders(catalog):
    wrong = []
    for entry in catalog:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            if text and sorted(PLACEHOLDER.findall(text)) != expected and sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(ids[0])):
                wrong.append((ids[0], text))
    assert wrong == []


def test_the_compiled_catalog_matches_the_source(catalog):
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert (CATALOG_DIR / "messages.mo").read_bytes() == compiled.getvalue(), (
        "messages.mo is out of date: run `make translations`"
    )


def test_spanish_pages_and_errors_are_in_spanish(client, content, make_campaign):
    campaign = make_campaign()
    home = client.get("/es/").get_data(as_text=True)
    assert "Campañas" in home and "Ir al contenido principal" in home
    page = client.post(f"/es/campaigns/{campaign.slug}", data={"full_name": "", "email": "x"}).get_data(as_text=True)
    assert "Por favor" in page or "Escriba" in page or "Ingrese" in page
    assert "Página no encontrada" in client.get("/es/nothing-here").get_data(as_text=True)
    refused = client.post(f"/es/campaigns/{campaign.slug}", headers={"Sec-Fetch-Site": "cross-site"})
    assert "Este formulario se envió desde otro sitio web" in refused.get_data(as_text=True)


def test_a_supporter_who_signed_in_spanish_gets_the_email_in_spanish(client, smtp_server, make_campaign):
    from tests.test_signing import sign_data

    campaign = make_campaign()
    client.post(f"/es/campaigns/{campaign.slug}", data=sign_data())
    message = smtp_server.messages[0]
    assert message["Subject"] == "Por favor, confirme su firma: “Campaign 1”"
    assert "Hola" in message.get_content()
    assert "http://localhost/es/confirm/" in message.get_content()
