"""Loading the coalition's content file."""

import re

import pytest

from coalition.extensions import db
from coalition.models import Belief, ContentBlock, Goal, PledgeAction
from coalition.services.content import ContentFileError, load_content


def _snapshot():
    rows = []
    for model in (Goal, PledgeAction, Belief, ContentBlock):
        for obj in db.session.execute(db.select(model).order_by(model.id)).scalars():
            rows.append({c.name: getattr(obj, c.name) for c in model.__table__.columns})
    return rows


def test_content_has_six_goals_three_beliefs_and_the_blocks(app, content):
    assert db.session.scalar(db.select(db.func.count(Goal.id))) == 6
    assert db.session.scalar(db.select(db.func.count(Belief.id))) == 3
    keys = set(db.session.scalars(db.select(ContentBlock.key)))
    assert {"mission", "stigma", "coordinator", "contact"} <= keys
    for goal in db.session.scalars(db.select(Goal)):
        assert goal.actions, f"{goal.slug} has no pledge actions"


def test_loading_twice_changes_nothing(app, content):
    before = _snapshot()
    report = load_content(app.config["CONTENT_FILE"])
    assert not report.changed
    assert _snapshot() == before
    report = load_content(app.config["CONTENT_FILE"], overwrite=True)
    assert not report.changed
    assert _snapshot() == before


def test_staff_edits_survive_a_reload_unless_overwritten(app, content):
    goal = db.session.execute(db.select(Goal).filter_by(slug="public-education")).scalar_one()
    goal.title = "Edited by staff"
    db.session.commit()
    load_content(app.config["CONTENT_FILE"])
    assert db.session.get(Goal, goal.id).title == "Edited by staff"
    report = load_content(app.config["CONTENT_FILE"], overwrite=True)
    assert "goal public-education" in report.updated
    assert db.session.get(Goal, goal.id).title != "Edited by staff"


def test_load_content_command_is_idempotent(app, runner):
    first = runner.invoke(args=["load-content"])
    assert first.exit_code == 0, first.output
    assert "41 added" in first.output
    second = runner.invoke(args=["load-content"])
    assert "0 added, 0 updated" in second.output


@pytest.mark.parametrize(
    "text, message",
    [
        ("not = [toml", "not valid TOML"),
        ("[blocks.a]\ntitle='x'\n", "no [[goals]]"),
        ("[[goals]]\nslug='a'\ntitle='A'\nsummary='s'\n[[goals]]\nslug='a'\ntitle='B'\nsummary='s'\n", "unique"),
    ],
)
def test_bad_content_file_is_a_clear_error(app, runner, tmp_path, text, message):
    path = tmp_path / "content.toml"
    path.write_text(text)
    with pytest.raises(ContentFileError, match=re.escape(message)):
        load_content(path)
    result = runner.invoke(args=["load-content", "--file", str(path)])
    assert result.exit_code != 0
    assert message in result.output


def test_missing_content_file_is_a_clear_cli_error(app, runner, tmp_path):
    result = runner.invoke(args=["load-content", "--file", str(tmp_path / "nope.toml")])
    assert result.exit_code != 0
    assert "content file not found" in result.output


def test_seed_demo_needs_content_then_adds_campaigns_once(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "load-content" in result.output
    runner.invoke(args=["load-content"])
    assert "Added 3 demo campaigns" in runner.invoke(args=["seed-demo"]).output
    assert "nothing added" in runner.invoke(args=["seed-demo"]).output


def test_every_piece_of_content_has_its_spanish_text(app, content):
    for goal in db.session.scalars(db.select(Goal)):
        assert goal.title_es and goal.summary_es and goal.body_es, goal.slug
        for action in goal.actions:
            assert action.label_es, f"{goal.slug}/{action.key}"
    for belief in db.session.scalars(db.select(Belief)):
        assert belief.text_es, belief.key
    for block in db.session.scalars(db.select(ContentBlock)):
        assert block.title_es and block.body_es, block.key


def test_spanish_readers_see_the_spanish_content(client, content):
    html = client.get("/es/goals/public-education").get_data(as_text=True)
    assert "Informar al público, a la prensa y a los legisladores" in html
    assert '<html lang="es">' in html


def test_seed_demo_adds_pledges_and_a_verified_endorsement(app, runner, client):
    from coalition.models import Endorsement, Pledge
    from coalition.services import counting

    runner.invoke(args=["load-content"])
    runner.invoke(args=["seed-demo"])
    goal_ids = list(db.session.scalars(db.select(Goal.id)))
    pledged = db.session.scalar(db.select(db.func.count(Pledge.id)).where(Pledge.status == "confirmed"))
    assert pledged > 0 and sum(counting.pledge_counts(goal_ids).values()) == pledged
    statuses = sorted(db.session.scalars(db.select(Endorsement.status)))
    assert statuses == ["confirmed", "verified"]
    html = client.get("/campaigns/alternatives-not-prison").get_data(as_text=True)
    assert "Harlem Reentry Circle" in html and "Brooklyn Faith Alliance" not in html
    runner.invoke(args=["seed-demo"])  # again: nothing doubled
    assert db.session.scalar(db.select(db.func.count(Pledge.id))) == pledged
