"""Districts and legislators for staff: what is loaded, corrections, addressees, delivery packets."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from coalition.extensions import db
from coalition.forms.legislature import (
    AddresseesForm,
    ForgetCorrectionForm,
    LegislatorContactForm,
    SignatureDistrictsForm,
)
from coalition.models import Campaign, Legislator, Signature
from coalition.services import audit_log, delivery, districts, legislators, packets
from coalition.web.staff import bp


@bp.route("/legislators")
def legislators_page():
    """Districts and legislators as loaded, with when, and a link to correct each one."""
    return render_template(
        "staff/legislators.html",
        district_load=districts.last_load("districts"),
        legislator_load=districts.last_load("legislators"),
        district_counts=districts.district_counts(),
        people=legislators.all_legislators(),
        committees=len(legislators.current_committees()),
    )


def _office(legislator: Legislator, kind: str) -> dict:
    offices = legislator.offices_of(kind)
    return offices[0] if offices else {}


@bp.route("/legislators/<int:legislator_id>", methods=["GET", "POST"])
def legislator(legislator_id: int):
    """Correct a legislator's contact details by hand (kept over a reload)."""
    person = db.get_or_404(Legislator, legislator_id)
    capitol, district = _office(person, "capitol"), _office(person, "district")
    form = LegislatorContactForm(
        data=None if request.method == "POST" else {
            "email": person.email,
            "url": person.url,
            "capitol_address": capitol.get("address", ""),
            "capitol_phone": capitol.get("phone", ""),
            "district_address": district.get("address", ""),
            "district_phone": district.get("phone", ""),
        }
    )
    if form.validate_on_submit():
        # Further district offices, which this form does not show, stay as they were.
        others = person.offices_of("district")[1:]
        offices = [
            {"kind": "capitol", "address": form.capitol_address.data or "", "phone": form.capitol_phone.data or ""},
            {"kind": "district", "address": form.district_address.data or "", "phone": form.district_phone.data or ""},
            *others,
        ]
        legislators.correct_contact(person, form.email.data or "", form.url.data or "", offices, current_user.id)
        db.session.commit()
        flash(_("Saved. A reload from Open States keeps these details until you let it replace them."), "success")
        return redirect(url_for("staff.legislator", legislator_id=person.id))
    return render_template("staff/legislator.html", person=person, form=form, forget_form=ForgetCorrectionForm())


@bp.route("/legislators/<int:legislator_id>/forget", methods=["POST"])
def forget_correction(legislator_id: int):
    """Let the next reload replace the hand-corrected details with Open States'."""
    person = db.get_or_404(Legislator, legislator_id)
    if ForgetCorrectionForm().validate_on_submit():
        legislators.forget_correction(person, current_user.id)
        db.session.commit()
        flash(_("The next reload will take Open States’ details for this legislator."), "success")
    return redirect(url_for("staff.legislator", legislator_id=person.id))


def _addressees_form(campaign: Campaign) -> AddresseesForm:
    if request.method == "POST":
        form = AddresseesForm()
    else:
        form = AddresseesForm(
            addressed_to=campaign.addressed_to,
            committee=campaign.target_committee_id or 0,
            legislators=[p.id for p in campaign.target_legislators],
            mail_subject=campaign.legislator_mail_subject,
            mail_body=campaign.legislator_mail_body,
        )
    form.committee.choices = [SelectChoice(0, "—")] + [
        SelectChoice(c.id, c.label) for c in legislators.current_committees()
    ]
    form.legislators.choices = [
        SelectChoice(p.id, f"{p.name} ({legislators.seat_label(p)})") for p in legislators.current_legislators()
    ]
    return form


@bp.route("/campaigns/<int:campaign_id>/delivery", methods=["GET", "POST"])
def delivery_page(campaign_id: int):
    """Whom the petition is addressed to, and the delivery packets for each of them."""
    campaign = db.get_or_404(Campaign, campaign_id)
    form = _addressees_form(campaign)
    if form.validate_on_submit():
        try:
            delivery.set_addressees(
                campaign,
                form.addressed_to.data,
                form.committee.data or None,
                list(form.legislators.data or []),
                form.mail_subject.data or "",
                form.mail_body.data or "",
                current_user.id,
            )
        except delivery.AddresseeError as exc:
            db.session.rollback()
            form.addressed_to.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("staff.delivery_page", campaign_id=campaign.id))
    return render_template(
        "staff/delivery.html",
        campaign=campaign,
        form=form,
        summaries=delivery.packet_summaries(campaign),
        unprintable=packets.unprintable_names(campaign),
    )


def _pdf_or_error(build):
    try:
        return build()
    except packets.PacketFontMissing:
        return None


@bp.route("/campaigns/<int:campaign_id>/packets/<int:legislator_id>.pdf")
def packet(campaign_id: int, legislator_id: int):
    """One legislator's delivery packet (audited)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    person = db.get_or_404(Legislator, legislator_id)
    result = _pdf_or_error(lambda: packets.build_packet(campaign, person))
    if result is None:
        flash(_("Packets need the font package fontpkg-noto-sans: install the requirements."), "error")
        return redirect(url_for("staff.delivery_page", campaign_id=campaign.id))
    delivery.record_download(campaign, current_user.id, [person.id], "pdf")
    db.session.commit()
    response = Response(result.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{packets.file_name(campaign, person)}"'
    # Signers' names: nginx passes the packet through, never spooling it to its disk.
    response.headers["X-Accel-Buffering"] = "no"
    return response


@bp.route("/campaigns/<int:campaign_id>/packets.zip")
def packets_zip(campaign_id: int):
    """Every targeted legislator's packet in one zip (audited)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    targeted = legislators.addressees(campaign)
    if not targeted:
        flash(_("Choose whom the petition is addressed to first."), "error")
        return redirect(url_for("staff.delivery_page", campaign_id=campaign.id))
    built = _pdf_or_error(lambda: packets.build_zip(campaign, targeted))
    if built is None:
        flash(_("Packets need the font package fontpkg-noto-sans: install the requirements."), "error")
        return redirect(url_for("staff.delivery_page", campaign_id=campaign.id))
    spool, _unprintable = built
    delivery.record_download(campaign, current_user.id, [p.id for p in targeted], "zip")
    db.session.commit()
    response = send_file(spool, mimetype="application/zip", as_attachment=True,
                         download_name=f"{campaign.slug}-packets.zip")
    response.headers["X-Accel-Buffering"] = "no"
    return response




def _short(district: str | None) -> str:
    if not district:
        return ""
    return ("SD " if districts.chamber_of(district) == "upper" else "AD ") + str(districts.number_of(district))


@bp.route("/signatures/<int:signature_id>/districts", methods=["GET", "POST"])
def signature_districts(signature_id: int):
    """Staff set a paper signature's Senate and Assembly districts (no longer re-derived then)."""
    signature = db.get_or_404(Signature, signature_id)
    if signature.source != "paper":
        abort(404)
    form = SignatureDistrictsForm(
        data=None if request.method == "POST" else {
            "senate": _short(signature.senate_district),
            "assembly": _short(signature.assembly_district),
        }
    )
    if form.validate_on_submit():
        senate = districts.parse_district(form.senate.data or "") if form.senate.data else None
        assembly = districts.parse_district(form.assembly.data or "") if form.assembly.data else None
        if form.senate.data and (senate is None or districts.chamber_of(senate) != "upper"):
            form.senate.errors.append(_("Write a Senate district as SD 12."))
        elif form.assembly.data and (assembly is None or districts.chamber_of(assembly) != "lower"):
            form.assembly.errors.append(_("Write an Assembly district as AD 65."))
        else:
            districts.set_districts_by_staff(signature, senate, assembly)
            audit_log.record("signature.districts", actor_id=current_user.id, subject=f"signature:{signature.id}")
            db.session.commit()
            flash(_("Districts saved."), "success")
            return redirect(url_for("staff.paper"))
    names = districts.district_names()
    candidates = [(d, names.get(d, d)) for d in [*signature.senate_candidates, *signature.assembly_candidates]]
    return render_template("staff/signature_districts.html", signature=signature, form=form, candidates=candidates,
                           short=_short)
