"""Every staff URL refuses anonymous visitors and the wrong role."""

from __future__ import annotations

import pytest
from coalition.web.staff import PUBLIC_ENDPOINTS
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
    ("GET", "/staff/campaigns/1/outcome", "organizer"),
    ("POST", "/staff/campaigns/1/outcome", "organizer"),
    ("POST", "/staff/campaigns/1/outcome/update", "organizer"),
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
    ("POST", "/staff/endorsements/1/sites", "organizer"),
    ("POST", "/staff/endorsements/1/sites/1/remove", "organizer"),
    ("GET", "/staff/signatures/bulk", "organizer"),
    ("POST", "/staff/signatures/bulk", "organizer"),
    ("GET", "/staff/paper", "organizer"),
    ("POST", "/staff/paper", "organizer"),
    ("POST", "/staff/paper/upload", "organizer"),
    ("GET", "/staff/privacy", "organizer"),
    ("POST", "/staff/privacy", "organizer"),
    ("GET", "/staff/audit", "admin"),
    ("GET", "/staff/updates", "organizer"),
    ("GET", "/staff/updates/new", "organizer"),
    ("POST", "/staff/updates/new", "organizer"),
    ("GET", "/staff/updates/1", "organizer"),
    ("GET", "/staff/updates/1/edit", "organizer"),
    ("POST", "/staff/updates/1/edit", "organizer"),
    ("POST", "/staff/updates/1/test", "organizer"),
    ("GET", "/staff/updates/1/send", "organizer"),
    ("POST", "/staff/updates/1/send", "organizer"),
    ("POST", "/staff/updates/1/cancel", "organizer"),
    ("GET", "/staff/exports", "organizer"),
    ("GET", "/staff/exports/columns", "organizer"),
    ("GET", "/staff/exports/signatures.csv", "organizer"),
    ("GET", "/staff/exports/pledges.csv", "organizer"),
    ("GET", "/staff/exports/endorsements.csv", "organizer"),
    ("GET", "/staff/legislators", "organizer"),
    ("GET", "/staff/legislators/1", "organizer"),
    ("POST", "/staff/legislators/1", "organizer"),
    ("POST", "/staff/legislators/1/forget", "organizer"),
    ("GET", "/staff/campaigns/1/delivery", "organizer"),
    ("POST", "/staff/campaigns/1/delivery", "organizer"),
    ("GET", "/staff/campaigns/1/packets/1.pdf", "organizer"),
    ("GET", "/staff/campaigns/1/packets.zip", "organizer"),
    ("GET", "/staff/signatures/1/districts", "organizer"),
    ("POST", "/staff/signatures/1/districts", "organizer"),
]


def test_the_list_covers_every_staff_url(app):
    adapter = app.url_map.bind("localhost")
    listed = {(method, adapter.match(path, method=method)[0]) for method, path, _ in STAFF_URLS}
    existing = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("staff.") and rule.endpoint not in PUBLIC_ENDPOINTS
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


# A session is not tied to the browser or the address (Flask-Login's "strong" protection
# trusted X-Forwarded-For and logged out staff whose phone changed network); logout ends
# every copy of it instead: see test_hardening.py.

def test_only_the_login_and_the_password_reset_are_open_to_anyone(client):
    assert PUBLIC_ENDPOINTS == {"staff.login", "staff.forgot_password", "staff.reset_password"}
    assert client.get("/staff/password-reset").status_code == 200
    assert client.get("/staff/password-reset/not-a-token").status_code == 404




def test_an_anonymous_visitor_gets_no_session_cookie_on_any_page(client, make_campaign):
    """Public pages need no session: nothing to protect, and a cookie would keep caches away."""
    campaign = make_campaign()
    for path in (f"/campaigns/{campaign.slug}", "/", "/es/", f"/goals/{campaign.goals[0].slug}",
                 f"/campaigns/{campaign.slug}/endorse", "/staff/login"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers.getlist("Set-Cookie") == [], path