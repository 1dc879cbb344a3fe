"""Error pages in the site's look, and the security headers."""

import pytest
from flask import abort
from flask_wtf import FlaskForm
from wtforms import StringField

from coalition.errors import redisplay_form_on_csrf_error


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


def test_failed_csrf_check_redisplays_the_form_with_what_was_typed(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)

    class NameForm(FlaskForm):
        name = StringField("Name")

    @app.route("/form", methods=["GET", "POST"])
    def form_view():
        form = NameForm()
        if form.validate_on_submit():
            return "saved"
        errors = "expired" if form.csrf_token.errors else ""
        return f"{errors}|{form.name.data or ''}|{form.csrf_token.current_token}"

    redisplay_form_on_csrf_error("form_view")
    client = app.test_client()
    response = client.post("/form", data={"name": "Rosa", "csrf_token": "stale"})
    assert response.status_code == 400
    expired, name, token = response.get_data(as_text=True).split("|")
    assert (expired, name) == ("expired", "Rosa")
    assert client.post("/form", data={"name": "Rosa", "csrf_token": token}).get_data(as_text=True) == "saved"


def test_failed_csrf_check_elsewhere_is_a_clear_page(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)

    @app.post("/act")
    def act():
        return "acted"

    response = app.test_client().post("/act")
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)


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
        if template.parent.name == "email":
            continue  # an email's HTML part is read by mail programs, not served under the CSP
        text = template.read_text()
        assert "<script>" not in text and "<style" not in text and " style=" not in text, template
        assert " onclick=" not in text and "javascript:" not in text, template


def test_a_redisplayed_form_still_runs_its_blueprints_access_checks(app_factory):
    from flask import Blueprint

    app = app_factory(WTF_CSRF_ENABLED=True)
    private = Blueprint("private", __name__)

    @private.before_request
    def refuse():
        abort(403)

    class NameForm(FlaskForm):
        name = StringField("Name")

    @private.route("/private-form", methods=["GET", "POST"])
    def private_form():
        NameForm().validate_on_submit()
        return "the private form"

    app.register_blueprint(private)
    redisplay_form_on_csrf_error("private.private_form")
    response = app.test_client().post("/private-form", data={"name": "x", "csrf_token": "stale"})
    assert response.status_code == 403
    assert "the private form" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/campaigns/%00", "/api/campaigns/%00.json", "/campaigns?q=%00", "/goals/x%00y"])
def test_a_nul_character_anywhere_is_a_clear_400(client, content, path):
    response = client.get(path)
    assert response.status_code == 400


def test_a_nul_character_in_a_form_field_is_a_clear_400(client, make_campaign):
    campaign = make_campaign()
    response = client.post(f"/campaigns/{campaign.slug}", data={"full_name": "Ro\x00sa", "email": "r@example.org"})
    assert response.status_code == 400
    assert "Something was wrong with that request" in response.get_data(as_text=True)
