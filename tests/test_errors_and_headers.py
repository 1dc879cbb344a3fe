"""Error pages in the site's look, and the security headers."""

import pytest
from flask import abort


@pytest.mark.parametrize(
    "code, text",
    [
        (400, "Something was wrong with that request"),
        (403, "You cannot open this page"),
        (404, "Page not found"),
        (405, "That action is not possible here"),
        (413, "That was too large"),
        (429, "Please slow down"),
        (500, "Sorry, something went wrong on our side"),
    ],
)
def test_error_pages_render_in_the_sites_look(app_factory, code, text):
    app = app_factory()

    @app.get("/boom")
    def boom():
        if code == 500:
            raise RuntimeError("a bug")
        abort(code)

    response = app.test_client().get("/boom")
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert text in html
    assert 'class="site-header"' in html


def test_rate_limit_page_says_when_to_try_again(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True)
    from coalition.extensions import limiter

    @app.get("/limited")
    @limiter.limit("1 per minute")
    def limited():
        return "ok"

    client = app.test_client()
    assert client.get("/limited").status_code == 200
    response = client.get("/limited")
    assert response.status_code == 429
    assert "Please try again in" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_a_staff_form_without_its_csrf_token_is_a_clear_page_and_does_nothing(app_factory, make_staff):
    app = app_factory(WTF_CSRF_ENABLED=True)
    staff = make_staff()
    response = app.test_client().post("/staff/login", data={"email": staff.email, "password": "x" * 20})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_security_headers_on_every_response(client, content):
    for path in ("/", "/nope", "/static/css/site.css", "/healthz"):
        response = client.get(path)
        headers = response.headers
        response.close()
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in headers


def test_production_adds_hsts_and_secure_session_cookie(app_factory):
    app = app_factory(ENV="production", SECRET_KEY="y" * 48)

    @app.get("/set-session")
    def set_session():
        from flask import session

        session["x"] = 1
        return "ok"

    response = app.test_client().get("/set-session")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_templates_have_no_inline_script_or_style():
    from pathlib import Path

    from coalition import PROJECT_ROOT

    for template in Path(PROJECT_ROOT, "templates").rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and "<style" not in text and " style=" not in text, template
        assert " onclick=" not in text and "javascript:" not in text, template


@pytest.mark.parametrize("path", ["/campaigns/%00", "/api/campaigns/%00.json", "/campaigns?q=%00", "/goals/x%00y"])
def test_a_nul_character_anywhere_is_a_clear_400(client, content, path):
    response = client.get(path)
    assert response.status_code == 400


def test_a_nul_character_in_a_form_field_is_a_clear_400(client, make_campaign):
    campaign = make_campaign()
    response = client.post(f"/campaigns/{campaign.slug}", data={"full_name": "Ro\x00sa", "email": "r@example.org"})
    assert response.status_code == 400
    assert "Something was wrong with that request" in response.get_data(as_text=True)
