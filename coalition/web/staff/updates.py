"""Updates by email: write, preview (both languages, the exact number of recipients),
send a test to oneself, confirm, follow the sending, cancel."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from coalition import mail
from coalition.extensions import db
from coalition.forms.staff import ConfirmForm, SendUpdateForm, UpdateForm
from coalition.models import Campaign, Goal, MailUpdate
from coalition.services import districts
from coalition.services import updates as update_service
from coalition.web.staff import bp

#: Seconds between refreshes of an update's page while it goes out.
REFRESH_SECONDS = 5


def _form(item: MailUpdate | None = None, **defaults) -> UpdateForm:
    if item is not None and not defaults:
        audience = update_service.Audience.from_json(item.audience)
        defaults = {
            "subject": item.subject,
            "body": item.body,
            "subject_es": item.subject_es,
            "body_es": item.body_es,
            "campaigns": audience.campaign_ids,
            "goals": audience.goal_ids,
            "counties": audience.counties,
            "senate_districts": audience.senate_districts,
            "assembly_districts": audience.assembly_districts,
        }
    form = UpdateForm(**defaults)
    form.campaigns.choices = [
        SelectChoice(c.id, c.title)
        for c in db.session.scalars(db.select(Campaign).where(Campaign.status != "draft").order_by(Campaign.title))
    ]
    form.goals.choices = [SelectChoice(g.id, g.title) for g in db.session.scalars(db.select(Goal).order_by(Goal.position))]
    form.counties.choices = [SelectChoice(name, name) for name in update_service.counties_with_consent()]
    names = districts.district_names()
    form.senate_districts.choices = [
        SelectChoice(ocd, names.get(ocd, ocd)) for ocd in update_service.districts_with_consent("upper")
    ]
    form.assembly_districts.choices = [
        SelectChoice(ocd, names.get(ocd, ocd)) for ocd in update_service.districts_with_consent("lower")
    ]
    return form


def _text(form: UpdateForm) -> update_service.UpdateText:
    return update_service.UpdateText(
        subject=form.subject.data or "",
        body=form.body.data or "",
        subject_es=form.subject_es.data or "",
        body_es=form.body_es.data or "",
    )


def _audience(form: UpdateForm) -> update_service.Audience:
    return update_service.Audience(
        campaign_ids=list(form.campaigns.data or []),
        goal_ids=list(form.goals.data or []),
        counties=list(form.counties.data or []),
        senate_districts=list(form.senate_districts.data or []),
        assembly_districts=list(form.assembly_districts.data or []),
    )


def _district_labels(audience: update_service.Audience) -> list[str]:
    names = districts.district_names() if audience.senate_districts or audience.assembly_districts else {}
    return [names.get(ocd, ocd) for ocd in audience.senate_districts + audience.assembly_districts]


def _update(update_id: int) -> MailUpdate:
    return db.get_or_404(MailUpdate, update_id)


@bp.get("/updates")
def updates():
    """Every update, newest first, with how far each went."""
    items = update_service.all_updates()
    return render_template("staff/updates.html", items=items)


@bp.route("/updates/new", methods=["GET", "POST"])
def new_update():
    """Write an update (saved as a draft, then previewed)."""
    form = _form()
    if form.validate_on_submit():
        try:
            item = update_service.create_update(_text(form), _audience(form), current_user.id)
        except update_service.UpdateError as exc:
            db.session.rollback()
            form.form_errors.append(_("Not saved: %(reason)s.", reason=str(exc)))
        else:
            db.session.commit()
            return redirect(url_for("staff.update", update_id=item.id))
    return render_template("staff/update_form.html", form=form, item=None)


@bp.route("/updates/<int:update_id>/edit", methods=["GET", "POST"])
def edit_update(update_id: int):
    """Change a draft."""
    item = _update(update_id)
    if item.status != "draft":
        return redirect(url_for("staff.update", update_id=item.id))
    form = _form(item) if request.method == "GET" else _form()
    if form.validate_on_submit():
        try:
            update_service.edit_update(item, _text(form), _audience(form), current_user.id)
        except update_service.UpdateError as exc:
            db.session.rollback()
            form.form_errors.append(_("Not saved: %(reason)s.", reason=str(exc)))
        else:
            db.session.commit()
            return redirect(url_for("staff.update", update_id=item.id))
    return render_template("staff/update_form.html", form=form, item=item)


def _previews(item: MailUpdate) -> list[update_service.RenderedUpdate]:
    languages = ["en"] + (["es"] if item.subject_es and item.body_es else [])
    return [update_service.render_update(item, language, link="#") for language in languages]


@bp.get("/updates/<int:update_id>")
def update(update_id: int):
    """A draft's preview and exact audience; an update going out: its progress (refreshing)."""
    item = _update(update_id)
    audience = update_service.Audience.from_json(item.audience)
    recipients = update_service.count_recipients(audience) if item.status == "draft" else item.recipients
    going = item.status in ("queueing", "sending")
    return render_template(
        "staff/update.html",
        item=item,
        audience=audience,
        campaigns={c.id: c for c in db.session.scalars(db.select(Campaign).where(Campaign.id.in_(audience.campaign_ids)))},
        goals={g.id: g for g in db.session.scalars(db.select(Goal).where(Goal.id.in_(audience.goal_ids)))},
        district_labels=_district_labels(audience),
        recipients=recipients,
        previews=_previews(item),
        progress=update_service.progress(item),
        refresh=REFRESH_SECONDS if going else None,
        button_form=ConfirmForm(),
    )


@bp.post("/updates/<int:update_id>/test")
def test_update(update_id: int):
    """Send the update (each written language) to the staff member's own address."""
    item = _update(update_id)
    if ConfirmForm().validate_on_submit():
        sent = update_service.send_test(item, current_user.email, current_user.id)
        db.session.commit()
        flash(_("A test is on its way to %(address)s (%(n)s message(s)).", address=current_user.email, n=sent), "success")
    return redirect(url_for("staff.update", update_id=item.id))


@bp.route("/updates/<int:update_id>/send", methods=["GET", "POST"])
def send_update(update_id: int):
    """Ask once more, with the exact number; then leave the update to the background senders."""
    item = _update(update_id)
    if item.status != "draft":
        return redirect(url_for("staff.update", update_id=item.id))
    recipients = update_service.count_recipients(update_service.Audience.from_json(item.audience))
    form = SendUpdateForm()
    changed = False
    if form.validate_on_submit():
        if form.recipients.data == str(recipients):
            try:
                update_service.start_sending(item, current_user.id)
            except update_service.UpdateError as exc:
                db.session.rollback()
                flash(_("Not sent: %(reason)s.", reason=str(exc)), "error")
            else:
                db.session.commit()
                # No mail was queued here: wake the sender, which queues the update batch by batch.
                mail.wake_sender()
                flash(_("The update is going out."), "success")
            return redirect(url_for("staff.update", update_id=item.id))
        changed = True  # the audience changed since the page was shown: ask again
    form.recipients.data = str(recipients)
    return render_template("staff/update_send.html", item=item, form=form, recipients=recipients, changed=changed)


@bp.post("/updates/<int:update_id>/cancel")
def cancel_update(update_id: int):
    """Stop an update going out: what is not yet sent is not sent."""
    item = _update(update_id)
    if ConfirmForm().validate_on_submit():
        try:
            removed = update_service.cancel(item, current_user.id)
        except update_service.UpdateError as exc:
            db.session.rollback()
            flash(_("Not cancelled: %(reason)s.", reason=str(exc)), "error")
        else:
            db.session.commit()
            flash(_("Cancelled: %(n)s message(s) will not be sent.", n=removed), "success")
    return redirect(url_for("staff.update", update_id=item.id))


