"""The form's signed time on a page a cache kept: the script fetches a fresh one when the form
is shown, so a form sent within seconds is still caught; without JavaScript the time drawn
in the page is the fallback."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import URLSafeTimedSerializer
from playwright.sync_api import expect

from tests.browser.conftest import running_live_server
from tests.browser.journeys import CAMPAIGN, unique_email

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOO_FAST = "Please check your details below and press “Sign” again."


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory, live_mailbox):
    """The site with the production minimum fill time (3 s)."""
    with running_live_server(tmp_path_factory.mktemp("strict"), live_mailbox, COALITION_FORM_MIN_FILL_SECONDS="3") as server:
        yield server


def _stamp(server, seconds_ago: int) -> str:
    """A form time signed as the site signs it (the page a cache kept for ``seconds_ago``)."""
    serializer = URLSafeTimedSerializer(server.env["COALITION_SECRET_KEY"], salt="coalition.form-time")
    return serializer.dumps(int(time.time()) - seconds_ago)


def _serve_as_if_cached(page, server, seconds_ago: int) -> None:
    """Serve the campaign page with the form time of a copy a cache kept ``seconds_ago``."""
    old = _stamp(server, seconds_ago)

    def handle(route):
        if route.request.method != "GET":
            route.continue_()
            return
        response = route.fetch()
        body = re.sub(r'(name="form_started" type="hidden" value=")[^"]+', r"\g<1>" + old, response.text())
        route.fulfill(response=response, body=body)

    page.route(f"{server.url}/campaigns/{CAMPAIGN}", handle)


def _sign_at_once(page) -> None:
    form = page.get_by_role("region", name="Sign this petition")
    form.get_by_label("Full name").fill("Robo Tester")
    form.get_by_label("Email", exact=True).fill(unique_email("robot"))
    form.get_by_label("ZIP code").fill("11216")
    form.get_by_role("button", name="Sign").click()
    page.wait_for_load_state()


def test_with_javascript_a_form_sent_seconds_after_it_was_shown_is_caught(new_page, strict_server):
    page = new_page()
    _serve_as_if_cached(page, strict_server, seconds_ago=25)
    with page.expect_response(lambda r: r.url.endswith("/form-stamp")) as stamp_response:
        page.goto(f"{strict_server.url}/campaigns/{CAMPAIGN}")
    assert stamp_response.value.status == 200
    field = page.locator("form.sign-form input[name='form_started']")
    expect(field).to_have_value(stamp_response.value.json()["stamp"])
    _sign_at_once(page)
    expect(page.get_by_role("alert").filter(has_text=TOO_FAST)).to_be_visible()
    # A person who looks again and presses Sign a few seconds later is taken.
    time.sleep(3.2)
    page.get_by_role("region", name="Sign this petition").get_by_role("button", name="Sign").click()
    page.wait_for_url(f"**/campaigns/{CAMPAIGN}/thanks*")


def test_without_javascript_the_time_drawn_in_the_page_is_used(new_page, strict_server):
    page = new_page(java_script_enabled=False)
    _serve_as_if_cached(page, strict_server, seconds_ago=25)
    page.goto(f"{strict_server.url}/campaigns/{CAMPAIGN}")
    _sign_at_once(page)
    page.wait_for_url(f"**/campaigns/{CAMPAIGN}/thanks*")
