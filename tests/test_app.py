"""The factory and its configuration."""

import os
import subprocess
import sys

import pytest

from coalition import PROJECT_ROOT, create_app
from coalition.config import ConfigurationError


def test_factory_uses_test_config(app):
    assert app.testing
    assert app.config["SQLALCHEMY_DATABASE_URI"] == app.config["DATABASE_URL"]


def test_default_database_is_sqlite_in_instance():
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/coalition.sqlite")


def test_environment_variables_override_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("COALITION_DATABASE_URL", f"sqlite:///{tmp_path}/other.sqlite")
    monkeypatch.setenv("COALITION_RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("COALITION_PROXY_COUNT", "1")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("other.sqlite")
    assert app.config["PROXY_COUNT"] == 1


@pytest.mark.parametrize("secret", [None, "short", "development-only-secret-key"])
def test_production_refuses_to_start_without_a_real_secret_key(make_config, secret):
    config = make_config(ENV="production")
    config.pop("SECRET_KEY")
    if secret:
        config["SECRET_KEY"] = secret
    with pytest.raises(ConfigurationError, match="COALITION_SECRET_KEY"):
        create_app(config)


def test_production_starts_with_a_long_secret_and_secure_cookies(make_config):
    app = create_app(make_config(ENV="production", SECRET_KEY="x" * 40))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_production_refusal_is_one_clear_line_from_the_command_line(tmp_path):
    env = {"COALITION_ENV": "production", "PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "routes"],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Refusing to start in production: set COALITION_SECRET_KEY" in result.stderr


def test_unknown_environment_name_is_refused(make_config):
    with pytest.raises(ConfigurationError, match="COALITION_ENV"):
        create_app(make_config(ENV="staging"))


def test_services_and_mail_never_import_the_web_layer():
    """Services, mail and links are shared by views and commands: none may reach into ``coalition.web``."""
    import ast
    import pathlib

    package = pathlib.Path(__file__).resolve().parent.parent / "coalition"
    modules = [*sorted((package / "services").glob("*.py")), package / "mail.py", package / "urls.py"]
    offenders = []
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if any(name == "coalition.web" or name.startswith("coalition.web.") for name in names):
                offenders.append(path.name)
    assert len(modules) > 10 and offenders == []
