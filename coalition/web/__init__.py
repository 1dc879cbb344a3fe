"""The site's blueprints."""

from flask import Flask

from coalition.web import api, confirm, embed, endorsements, health, petitions, pledges, public, staff, subscriptions


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint to the app."""
    app.register_blueprint(public.bp)
    app.register_blueprint(petitions.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(pledges.bp)
    app.register_blueprint(endorsements.bp)
    app.register_blueprint(confirm.bp)
    app.register_blueprint(subscriptions.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(staff.bp)
