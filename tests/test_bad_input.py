"""Bad input on every public form and JSON endpoint: never a 500, always a clear 4xx or the
form again with a message.

Property-based (hypothesis): any unicode (control characters, NUL, direction marks), very
long values, missing and repeated fields, lists where one value is expected, undecodable
bytes, JSON where a form is expected. Examples share one app per test, and each example
stands alone (a unique address where one is needed), so the order does not matter.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.public_forms import GOAL, endorse_data, pledge_data, post_rules, sign_data

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Characters that break naive code: NUL, controls, direction marks, BOM, combining marks,
#: line separators, astral characters, quotes and markup.
TRICKY = "\x00\x01\x07\x1b\x7f\u0085\u200b\u200e\u200f\u202a\u202e\u2066\u2069\u2028\u2029\ufeff\u0301" \
    "\U0001f600\U00010348'\"<>&%;\\/\r\n\t"

values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=TRICKY, max_size=20),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "\u202e", "<", "0"]), st.integers(200, 20_000)),
    st.sampled_from(["", " ", "0", "-1", "1e309", "NaN", "null", "true", "[]", "{}", "y", "on"]),
)
#: A field sent once, several times, or (by the caller) not at all.
field_values = st.one_of(values, st.lists(values, min_size=2, max_size=4))

SIGN_FIELDS = ["full_name", "email", "zip_code", "country", "comment", "show_publicly", "wants_updates",
               "also_pledge", "homepage", "form_started", "csrf_token"]
PLEDGE_FIELDS = ["full_name", "email", "zip_code", "country", "actions", "message", "homepage", "form_started"]
ENDORSE_FIELDS = ["organization_name", "website", "org_type", "locality", "contact_name", "contact_role",
                  "contact_email", "contact_phone", "statement", "authorized", "public_consent", "homepage",
                  "form_started"]
#: What a form page says when it shows the form again: an error summary, a note, or the
#: "form expired" / limits pages.
CLEAR_MESSAGES = (
    "Please correct the highlighted fields",
    "press “Sign” again",
    "press the button again",
    "not taking signatures",
    "closed on",
    "The form expired",
    "Something was wrong with that request",
)


def _form(fields: list[str], base: dict):
    """Forms mixing valid fields, fuzzed ones, missing ones and unknown ones."""
    return st.fixed_dictionaries(
        {},
        optional={name: st.one_of(st.just(base.get(name, "")), field_values) for name in fields}
        | {"unexpected": field_values},
    )


def _assert_clear(response, where: str) -> None:
    status = response.status_code
    assert status < 500, (where, status)
    if status in (200, 400, 409):
        html = response.get_data(as_text=True)
        assert any(message in html for message in CLEAR_MESSAGES), (where, status, html[:300])
    else:
        assert status in (302, 303, 404, 413, 429), (where, status)


@pytest.fixture
def open_campaign(make_campaign):
    """An open campaign advancing the pledge goal; returns its slug."""
    return make_campaign(slug="fuzz", goal_slugs=[GOAL]).slug


@EXAMPLES
@given(form=_form(SIGN_FIELDS, {}))
def test_the_sign_form_never_fails(client, open_campaign, form):
    _assert_clear(client.post(f"/campaigns/{open_campaign}", data=form), "sign")


@EXAMPLES
@given(name=field_values, email=field_values, comment=field_values, country=field_values)
def test_the_sign_form_with_a_real_stamp_never_fails(client, open_campaign, name, email, comment, country):
    data = sign_data(full_name=name, email=email, comment=comment, country=country, zip_code="")
    _assert_clear(client.post(f"/campaigns/{open_campaign}", data=data), "sign")


@EXAMPLES
@given(form=_form(PLEDGE_FIELDS, {}))
def test_the_pledge_form_never_fails(client, content, form):
    _assert_clear(client.post(f"/goals/{GOAL}/pledge", data=form), "pledge")


@EXAMPLES
@given(name=field_values, email=field_values, message=field_values, actions=field_values, zip_code=values)
def test_the_pledge_form_with_a_real_stamp_never_fails(client, content, name, email, message, actions, zip_code):
    data = pledge_data(full_name=name, email=email, message=message, actions=actions, zip_code=zip_code)
    _assert_clear(client.post(f"/goals/{GOAL}/pledge", data=data), "pledge")


@EXAMPLES
@given(form=_form(ENDORSE_FIELDS, {}))
def test_the_endorsement_form_never_fails(client, open_campaign, form):
    _assert_clear(client.post(f"/campaigns/{open_campaign}/endorse", data=form), "endorse")


@EXAMPLES
@given(organization=field_values, website=field_values, org_type=field_values, email=field_values,
       phone=field_values, statement=field_values)
def test_the_endorsement_form_with_a_real_stamp_never_fails(client, open_campaign, organization, website,
                                                            org_type, email, phone, statement):
    data = endorse_data(organization_name=organization, website=website, org_type=org_type, contact_email=email,
                        contact_phone=phone, statement=statement)
    _assert_clear(client.post(f"/campaigns/{open_campaign}/endorse", data=data), "endorse")


@EXAMPLES
@given(token=values, method=st.sampled_from(["GET", "POST"]), kind=st.sampled_from(
    ["/confirm/", "/endorsements/confirm/", "/endorsements/withdraw/"]))
@example(token="/0", method="GET", kind="/confirm/")
@example(token="/0", method="POST", kind="/endorsements/withdraw/")
def test_confirmation_links_with_any_token_never_fail(client, content, token, method, kind):
    response = client.open(kind + quote(token or "x", safe=""), method=method)
    if response.status_code == 308:
        # A token with a "/" makes a doubled slash, which the router merges by redirecting
        # to the same site; the address it points to must be handled clearly too.
        location = response.headers["Location"]
        assert location.startswith("/") or location.startswith("http://localhost/"), location
        response = client.open(location, method=method)
    assert response.status_code in (400, 404, 405, 410), (kind, response.status_code)


@EXAMPLES
@given(code=values, next_=values)
@example(code="/0", next_="")
def test_the_language_switch_never_fails_and_never_leaves_the_site(client, code, next_):
    response = client.get(f"/language/{quote(code or 'x', safe='')}", query_string={"next": next_})
    if response.status_code == 308:  # a "/" in the code: the router merges the doubled slash
        assert response.headers["Location"].startswith(("/", "http://localhost/"))
        response = client.get(response.headers["Location"])
    assert response.status_code in (302, 400, 404)  # 400: a NUL character anywhere
    if response.status_code == 302:
        target = response.headers["Location"]
        assert target.startswith("/") and not target.startswith("//") and "\\" not in target[:2]


@EXAMPLES
@given(slug=values, query=st.dictionaries(st.text(max_size=10), values, max_size=3))
@example(slug="\x00", query={})
def test_the_json_api_never_fails_and_always_answers_json(client, open_campaign, slug, query):
    for path in (f"/api/campaigns/{quote(slug or 'x', safe='')}.json", "/api/campaigns.json"):
        response = client.get(path, query_string=query)
        assert response.status_code in (200, 400, 404), (path, response.status_code)
        assert response.is_json and isinstance(response.get_json(), dict)


@EXAMPLES
@given(body=st.one_of(st.binary(max_size=500), st.text(max_size=200).map(str.encode)),
       content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain",
                                     "multipart/form-data; boundary=xyz", "application/x-www-form-urlencoded; charset=latin-1"]))
def test_raw_bodies_of_any_kind_never_fail(client, open_campaign, body, content_type):
    for path in (f"/campaigns/{open_campaign}", f"/goals/{GOAL}/pledge", f"/campaigns/{open_campaign}/endorse"):
        _assert_clear(client.post(path, data=body, content_type=content_type), path)
    api = client.post("/api/campaigns.json", data=body, content_type=content_type)
    assert api.status_code == 405 and api.is_json


def test_undecodable_bytes_in_a_form_are_answered_with_the_form(client, open_campaign):
    body = "full_name=%FF%FEAna&email=ana%C0%AF@example.org&zip_code=10027&comment=%ED%A0%80"
    response = client.post(f"/campaigns/{open_campaign}", data=body,
                           content_type="application/x-www-form-urlencoded")
    _assert_clear(response, "sign")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


@EXAMPLES
@given(body=st.one_of(json_values, st.dictionaries(st.sampled_from(SIGN_FIELDS), json_values, max_size=6)))
def test_json_of_any_shape_sent_to_the_forms_never_fails(client, open_campaign, body):
    for path in (f"/campaigns/{open_campaign}", f"/goals/{GOAL}/pledge", f"/campaigns/{open_campaign}/endorse"):
        _assert_clear(client.post(path, data=json.dumps(body), content_type="application/json"), path)


def test_json_with_the_shape_of_form_data_is_read_as_the_form(client, open_campaign):
    # Flask-WTF's own feature: kept for well-formed data, and held to the same checks.
    good = client.post(f"/campaigns/{open_campaign}", json=sign_data(email="json@example.org"))
    assert good.status_code == 303
    bad = client.post(f"/campaigns/{open_campaign}", json=sign_data(email="not-an-email"))
    assert bad.status_code == 200 and "real email address" in bad.get_data(as_text=True)
    nested = client.post(f"/campaigns/{open_campaign}", json=dict(sign_data(), full_name={"first": "Ana"}))
    assert nested.status_code == 400 and "Something was wrong with that request" in nested.get_data(as_text=True)


def test_a_body_over_the_size_limit_gets_the_413_page_on_every_post_route(app, client, open_campaign):
    limit = app.config["MAX_CONTENT_LENGTH"]
    values_for_rules = {"slug": open_campaign, "pledges.pledge:slug": GOAL}
    from tests.public_forms import build_path

    for rule in post_rules(app):
        path = build_path(rule, values_for_rules)
        response = client.post(path, data={"comment": "x" * (limit + 1)})
        if response.status_code == 404:  # a link route with a made-up token: refused before reading
            continue
        if response.status_code == 302 and rule.endpoint.startswith("staff."):
            # A staff route sends a visitor who is not logged in to the login page, unread.
            assert "/staff/login" in response.headers["Location"], rule.rule
            continue
        assert response.status_code == 413, (rule.rule, response.status_code)
        assert "That was too large" in response.get_data(as_text=True)
    sign = client.post(f"/campaigns/{open_campaign}", data=sign_data(comment="x" * (limit + 1)))
    assert sign.status_code == 413


# --- Multipart bodies, unknown slugs on every POST route, invalid Unicode (issue 16) ------

#: Part names a multipart body may carry: the forms' fields, none at all, empty, made up.
part_names = st.one_of(
    st.sampled_from(SIGN_FIELDS + PLEDGE_FIELDS + ENDORSE_FIELDS + ["csv-file", "csv-campaign", "one-full_name"]),
    st.none(),
    st.just(""),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='"\r\n'), max_size=10),
)
part_values = st.one_of(values.map(lambda text: text.encode("utf-8", "surrogatepass")), st.binary(max_size=200))
parts = st.lists(
    st.tuples(part_names, part_values, st.one_of(st.none(), st.sampled_from(["a.txt", "", "sheet.csv", "x\".csv"]))),
    max_size=6,
)


def _multipart(items) -> bytes:
    """A multipart body built by hand: parts without a name, files where text is expected."""
    body = b""
    for name, value, filename in items:
        disposition = "form-data"
        if name is not None:
            disposition += f'; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += b"--XyZ\r\nContent-Disposition: " + disposition.encode("utf-8", "surrogatepass") + b"\r\n"
        if filename is not None:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + value + b"\r\n"
    return body + b"--XyZ--\r\n"


@pytest.fixture
def staff_client(app, make_staff):
    """A second client, logged in as an admin."""
    from tests.conftest import login

    staff_client = app.test_client()
    login(staff_client, make_staff(role="admin"))
    return staff_client


@EXAMPLES
@given(items=parts)
@example(items=[(None, b"value", None)])
@example(items=[("full_name", b"Rosa", "name.txt"), ("email", b"rosa@example.org", None)])
@example(items=[("csv-event", b"Albany", "event.txt")])
def test_multipart_bodies_of_any_shape_never_fail(client, staff_client, open_campaign, items):
    body = _multipart(items)
    content_type = "multipart/form-data; boundary=XyZ"
    for path in (f"/campaigns/{open_campaign}", f"/goals/{GOAL}/pledge", f"/campaigns/{open_campaign}/endorse"):
        _assert_clear(client.post(path, data=body, content_type=content_type), path)
    for path in ("/staff/paper/upload", "/staff/paper", "/staff/login"):
        response = staff_client.post(path, data=body, content_type=content_type)
        assert response.status_code < 500, (path, response.status_code)


@pytest.fixture
def csrf_client(app_factory, make_staff, content):
    """A client of an app with CSRF on (the failure page re-runs a form's view), logged in
    as an admin, so staff routes are reached too."""
    from tests.conftest import login

    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from coalition.services import content as content_service

        content_service.load_content(app.config["CONTENT_FILE"])
        csrf_client = app.test_client()
        app.config["WTF_CSRF_ENABLED"] = False
        from coalition.services import staff as staff_service

        app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST_KIB=8, ARGON2_PARALLELISM=1)
        staff_service.create_staff("fuzz-admin@example.org", "admin", "correct horse battery")
        from coalition.extensions import db as _db

        _db.session.commit()
        csrf_client.post("/staff/login", data={"email": "fuzz-admin@example.org", "password": "correct horse battery"})
        app.config["WTF_CSRF_ENABLED"] = True
        yield app, csrf_client


@EXAMPLES
@given(slug=values, number=st.integers(-2, 2**63), token=values)
@example(slug="no-such-campaign", number=999, token="x")
def test_unknown_slugs_and_ids_on_every_post_route_never_fail(app, client, csrf_client, slug, number, token):
    from tests.public_forms import build_path

    csrf_app, logged_in = csrf_client
    arguments = {"slug": quote(slug or "x", safe="") or "x", "token": quote(token or "x", safe="") or "x"}
    for target_app, target in ((app, client), (csrf_app, logged_in)):
        for rule in post_rules(target_app):
            if rule.endpoint == "staff.logout":
                continue
            filled = {**arguments, **{name: number % 2**31 for name in rule.arguments if name.endswith("id")}}
            with target_app.app_context():
                path = build_path(rule, filled)
            response = target.post(path, data={"full_name": "Rosa", "email": "rosa@example.org"})
            assert response.status_code < 500, (rule.rule, path, response.status_code)


#: JSON texts with lone surrogates (escaped: the only way a request can carry one).
surrogate_json = st.builds(
    lambda field, before, surrogate, after: '{"%s": "%s\\u%04x%s"}' % (field, before, surrogate, after),
    st.sampled_from(SIGN_FIELDS + ENDORSE_FIELDS),
    st.text(alphabet="abc ", max_size=5),
    st.integers(0xD800, 0xDFFF),
    st.text(alphabet="abc ", max_size=5),
)


@EXAMPLES
@given(body=surrogate_json)
@example(body='{"full_name": "\\ud800"}')
def test_json_with_lone_surrogates_never_fails(client, open_campaign, body):
    for path in (f"/campaigns/{open_campaign}", f"/goals/{GOAL}/pledge", f"/campaigns/{open_campaign}/endorse",
                 "/staff/login", "/confirm/x"):
        response = client.post(path, data=body.encode(), content_type="application/json")
        assert 400 <= response.status_code < 500, (path, response.status_code)
        if response.status_code == 400:
            assert "Something was wrong with that request" in response.get_data(as_text=True)
