"""The files in deploy/ agree with the app and with each other."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest

from coalition import PROJECT_ROOT

DEPLOY = Path(PROJECT_ROOT) / "deploy"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(path)
    return parser


def _flask_command(unit: configparser.ConfigParser) -> list[str]:
    words = shlex.split(unit["Service"]["ExecStart"])
    assert words[:3] == ["/srv/coalition/.venv/bin/flask", "--app", "app"], words
    return words[3:]


TIMERS = sorted(DEPLOY.glob("*.timer"))


def test_the_retention_purges_have_timers():
    commands = {_flask_command(_unit(timer.with_suffix(".service")))[0] for timer in TIMERS}
    assert {"purge-unconfirmed", "purge-personal-data"} <= commands


@pytest.mark.parametrize("timer", TIMERS, ids=lambda path: path.stem)
def test_each_timer_starts_a_real_command_of_the_app(timer, app):
    assert _unit(timer)["Timer"]["OnCalendar"]
    service = timer.with_suffix(".service")
    assert service.exists(), f"{timer.name} has no {service.name}"
    name, *options = _flask_command(_unit(service))
    command = app.cli.get_command(None, name)
    assert command is not None, f"{service.name} runs an unknown command: {name}"
    command.make_context(name, list(options))  # raises if an option is wrong


def test_gunicorn_listens_where_nginx_proxies_and_nginx_serves_the_sites_static_folder():
    service = _unit(DEPLOY / "coalition.service")["Service"]
    nginx = (DEPLOY / "nginx.conf").read_text()
    bind = re.search(r"^Environment=COALITION_BIND=unix:(\S+)$", (DEPLOY / "coalition.service").read_text(), re.M)
    assert bind and f"server unix:{bind.group(1)} " in nginx
    assert f"/run/{service['RuntimeDirectory']}/" in bind.group(1)
    assert f"alias {service['WorkingDirectory']}/static/;" in nginx
    assert "COALITION_PROXY_COUNT=1" in (DEPLOY / "coalition.service").read_text()


def test_the_cache_key_holds_every_parameter_a_public_view_reads():
    """A public view that reads a query parameter must have it in nginx's cache key, or
    every value would be served the page drawn for the first one."""
    key = re.search(r"map \"([^\"]+)\" \$coalition_cache_key", (DEPLOY / "nginx.conf").read_text()).group(1)
    web = Path(PROJECT_ROOT) / "coalition" / "web"
    public_views = [path for path in web.rglob("*.py") if "staff" not in path.parts]
    read = set()
    for path in public_views:
        read |= set(re.findall(r"request\.(?:args|values)\.get\(\s*[\"'](\w+)[\"']", path.read_text()))
        assert not re.search(r"request\.(?:args|values)\[", path.read_text()), f"{path.name}: read parameters with .get()"
    assert read, "no public parameter found: the scan no longer matches the code"
    for name in read:
        assert f"$arg_{name}" in key or f"$coalition_arg_{name}" in key, (
            f"{name} is read by a public view but not in $coalition_cache_key"
        )


def test_the_cache_key_takes_exactly_the_share_sources_the_site_records():
    from coalition.services.referrals import REFERRAL_SOURCES

    nginx = (DEPLOY / "nginx.conf").read_text()
    pattern = re.search(r'map \$arg_source \$coalition_arg_source \{\s*default "";\s*"~([^"]+)" \$arg_source;', nginx).group(1)
    assert {source for source in REFERRAL_SOURCES if re.fullmatch(pattern, source)} == REFERRAL_SOURCES
    assert not re.fullmatch(pattern, "share-random") and not re.fullmatch(pattern, "x")
