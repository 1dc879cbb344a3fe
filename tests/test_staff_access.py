"""Every staff URL refuses anonymous visitors and the wrong role."""

from __future__ import annotations

import pytest
from tests.conftest import STAFF_PASSWORD, login

#: Every staff URL but the login page: method, path, and the role it needs
#: ("organizer" means any active staff member).
STAFF_URLS = [
    ("GET", "/staff/", "organizer"),
    ("POST", "/staff/logout", "organizer"),
    ("GET", "/staff/account/password", "organizer"),
    ("POST", "/staff/account/password", "organizer"),
    ("GET", "/staff/accounts", "admin"),
    ("POST", "/staff/accounts", "admin"),
    ("POST", "/staff/accounts/1/role", "admin"),
    ("POST", "/staff/accounts/1/active", "admin"),
    ("GET", "/staff/campaigns", "organizer"),
    ("GET", "/staff/campaigns/new", "organizer"),
    ("POST", "/staff/campaigns/new", "organizer"),
    ("GET", "/staff/campaigns/1/edit", "organizer"),
    ("POST", "/staff/campaigns/1/edit", "organizer"),
    ("POST", "/staff/campaigns/1/status", "organizer"),
    ("GET", "/staff/goals", "organizer"),
    ("GET", "/staff/goals/1", "organizer"),
    ("POST", "/staff/goals/1", "organizer"),
    ("POST", "/staff/goals/1/actions", "organizer"),
    ("POST", "/staff/goals/actions/1", "organizer"),
    ("GET", "/staff/endorsements", "organizer"),
    ("POST", "/staff/endorsements/1/verify", "organizer"),
    ("POST", "/staff/endorsements/1/reject", "organizer"),
    ("GET", "/staff/endorsements/1", "organizer"),
    ("POST", "/staff/endorsements/1", "organizer"),
    ("GET", "/staff/signatures", "organizer"),
    ("POST", "/staff/signatures/1/invalidate", "organizer"),
    ("POST", "/staff/signatures/1/restore", "organizer"),
    ("POST", "/staff/signatures/1/wall", "organizer"),
    ("POST", "/staff/campaigns/1/share-image", "organizer"),
    ("POST", "/staff/endorsements/1/embed-count", "organizer"),
    ("GET", "/staff/signatures/bulk", "organizer"),
    ("POST", "/staff/signatures/bulk", "organizer"),
    ("GET", "/staff/paper", "organizer"),
    ("POST", "/staff/paper", "organizer"),
    ("POST", "/staff/paper/upload", "organizer"),
    ("GET", "/staff/privacy", "organizer"),
    ("POST", "/staff/privacy", "organizer"),
    ("GET", "/staff/audit", "admin"),
    ("GET", "/staff/exports", "organizer"),
    ("GET", "/staff/exports/signatures.csv", "organizer"),
    ("GET", "/staff/exports/pledges.csv", "organizer"),
    ("GET", "/staff/exports/endorsements.csv", "organizer"),
]


def test_the_list_covers_every_staff_url(app):
    adapter = app.url_map.bind("localhost")
    listed = {(method, adapter.match(path, method=method)[0]) for method, path, _ in STAFF_URLS}
    existing = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("staff.") and rule.endpoint != "staff.login"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert listed == existing


@pytest.mark.parametrize("method, path, role", STAFF_URLS)
def test_staff_url_refuses_anonymous_and_wrong_role(app, make_staff, method, path, role):
    anonymous = app.test_client().open(path, method=method)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/staff/login")

    organizer_client = app.test_client()
    login(organizer_client, make_staff(role="organizer"))
    as_organizer = organizer_client.open(path, method=method)
    if role == "admin":
        assert as_organizer.status_code == 403
        admin_client = app.test_client()
        login(admin_client, make_staff(role="admin"))
        allowed = admin_client.open(path, method=method)
    else:
        allowed = as_organizer
    allowed.close()
    assert allowed.status_code != 403
    assert not allowed.headers.get("Location", "").startswith("/staff/login") or path == "/staff/logout"


def test_a_staff_session_taken_to_another_browser_is_refused(client, make_staff):
    """Strong session protection: the session cookie alone, from another browser, is not enough."""
    staff = make_staff()
    headers = {"User-Agent": "Firefox/140.0"}
    client.post("/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD}, headers=headers)
    assert client.get("/staff/", headers=headers).status_code == 200
    response = client.get("/staff/", headers={"User-Agent": "curl/8.0"})
    assert response.status_code in (302, 303) and "/staff/login" in response.headers["Location"]


def test_an_anonymous_visitor_gets_no_session_cookie_on_any_page(client, make_campaign):
    """Public pages need no session: nothing to protect, and a cookie would keep caches away."""
    campaign = make_campaign()
    for path in (f"/campaigns/{campaign.slug}", "/", "/es/", f"/goals/{campaign.goals[0].slug}",
                 f"/campaigns/{campaign.slug}/endorse", "/staff/login"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers.getlist("Set-Cookie") == [], path