"""The Coalition for Women Prisoners' campaign site."""

from __future__ import annotations

import os

from flask import Flask

from coalition import auth, cli, database, errors, i18n, limits_storage, logs, security, templating
from coalition import models  # noqa: F401  (registers every table on db.metadata)
from coalition.config import load_config
from coalition.extensions import babel, csrf, db, limiter, login_manager, migrate
from coalition.web import caching, register_blueprints

#: Top-level folders beside the package, as the coalition's layout asks.
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, commands, error pages."""
    app = Flask(
        __name__,
        instance_path=os.path.join(PROJECT_ROOT, "instance"),
        instance_relative_config=True,
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "static"),
    )
    load_config(app, test_config)
    logs.init_app(app)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(PROJECT_ROOT, "migrations"))
    csrf.init_app(app)
    app.config["RATELIMIT_STORAGE_URI"] = limits_storage.storage_uri(app.config["RATELIMIT_STORAGE_URI"])
    limiter.init_app(app)
    # No current_user in every template: loading it reads the session, and public pages
    # must not (the staff blueprint offers it to its own templates).
    login_manager.init_app(app, add_context_processor=False)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    templating.init_app(app)
    caching.init_app(app)
    security.init_app(app)
    register_blueprints(app)
    auth.init_app(app)
    cli.init_app(app)
    errors.init_app(app)
    return app
