"""The site's ``flask`` commands (``db upgrade`` and friends come from Flask-Migrate)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app

from coalition import mail
from coalition.database import clear_erased_data_from_files, write_intent
from coalition.extensions import db
from coalition.models import Campaign, Goal
from coalition.services import content as content_service
from coalition.services import database_copy, districts, legislators, pledging
from coalition.services import demo as demo_service
from coalition.services import signing as signing_service
from coalition.services.confirmations import TOKEN_MAX_AGE_SECONDS
from coalition.services import exports as export_service
from coalition.services import privacy as privacy_service
from coalition.services import staff as staff_service


@click.command("load-content")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="Content file (default: the coalition's).")
@click.option("--overwrite", is_flag=True, help="Replace text already in the database with the file's.")
def load_content_command(path: str | None, overwrite: bool) -> None:
    """Load the coalition's goals, beliefs and text into the database (safe to repeat)."""
    path = path or current_app.config["CONTENT_FILE"]
    try:
        with write_intent():
            report = content_service.load_content(path, overwrite=overwrite)
            db.session.commit()
    except content_service.ContentFileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Content loaded from {path}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{report.unchanged} unchanged."
    )
    if report.unchanged and not overwrite:
        click.echo("Text already in the database was kept; use --overwrite to replace it with the file's.")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Add demo campaigns with signatures, for trying the site (only once)."""
    if db.session.execute(db.select(Goal.id).limit(1)).first() is None:
        raise click.ClickException("Load the coalition's content first: flask --app app load-content")
    with write_intent():
        added = demo_service.seed_demo()
        db.session.commit()
    if added:
        click.echo(f"Added {len(added)} demo campaigns: {', '.join(c.slug for c in added)}.")
    else:
        click.echo("The demo campaigns are already there; nothing added.")


@click.command("setup-if-empty")
def setup_if_empty_command() -> None:
    """Load the content and the demo data when the database has none (used by ``make run``)."""
    with write_intent():
        if db.session.execute(db.select(Goal.id).limit(1)).first() is None:
            report = content_service.load_content(current_app.config["CONTENT_FILE"])
            click.echo(f"Loaded the coalition's content ({len(report.added)} entries).")
        if db.session.execute(db.select(Campaign.id).limit(1)).first() is None:
            added = demo_service.seed_demo()
            click.echo(f"Added {len(added)} demo campaigns.")
        db.session.commit()


@click.command("send-pending-mail")
@click.option("--limit", default=1000, show_default=True, help="Most messages to try in this run.")
@click.option(
    "--due-only",
    is_flag=True,
    help="Leave messages that are waiting out their retry back-off (for a frequent cron job).",
)
def send_pending_mail_command(limit: int, due_only: bool) -> None:
    """Send queued mail now (for cron, or after the mail server was down).

    Messages that failed earlier wait out a back-off before the site retries them by
    itself; this command sends them at once, unless ``--due-only`` is given. A server
    that is still down costs one refused connection: the run stops there.
    """
    sent, failed = mail.send_pending_mail(limit=limit, waiting_too=not due_only)
    click.echo(f"{sent} sent, {failed} failed (failed ones are retried later).")
    if failed:
        raise SystemExit(1)


@click.command("mail-worker")
@click.option("--once", is_flag=True, help="One pass (queue a batch of each update, send what is due), then exit.")
def mail_worker_command(once: bool) -> None:
    """Queue updates and send mail until stopped (SIGTERM or Ctrl+C let the message in hand finish).

    The web workers do the same in a thread of their own; a worker process of its own
    suits a site whose web servers restart often, or a second machine.
    """
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)}
    click.echo("mail worker started", err=True)
    try:
        while not stop.is_set():
            try:
                wait = mail.run_pass(stop.is_set)
            except Exception:  # a database or mail server away for a moment: try again soon
                logging.getLogger(__name__).exception("mail worker pass failed")
                wait = WORKER_MAX_WAIT_SECONDS
            finally:
                db.session.remove()
            if once:
                break
            # Nothing wakes this process when a request queues mail: look again soon.
            stop.wait(min(wait, WORKER_MAX_WAIT_SECONDS))
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    click.echo("mail worker stopped", err=True)


#: The longest a ``mail-worker`` waits between passes.
WORKER_MAX_WAIT_SECONDS = 2.0


@click.command("copy-database")
@click.option("--to", "target_url", required=True, help="SQLAlchemy URL of the new, migrated, empty database.")
def copy_database_command(target_url: str) -> None:
    """Copy every table of this site's database into another (e.g. SQLite to PostgreSQL)."""
    target = sa.create_engine(target_url)
    try:
        report = database_copy.copy_database(
            db.engine, target, progress=lambda table, n: click.echo(f"\r{table}: {n} rows", nl=False, err=True)
        )
    except database_copy.CopyError as exc:
        raise click.ClickException(str(exc)) from exc
    except sa.exc.OperationalError as exc:
        raise click.ClickException(f"cannot reach the target database: {exc.orig}") from exc
    finally:
        target.dispose()
    click.echo("", err=True)
    total = sum(report.rows.values())
    click.echo(f"Copied {total} rows in {len(report.rows)} tables.")


@click.command("backup-sqlite")
@click.argument("destination", type=click.Path(dir_okay=False, writable=True))
def backup_sqlite_command(destination: str) -> None:
    """Write a consistent copy of the live SQLite database to DESTINATION."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.ClickException("backup-sqlite is for SQLite; on PostgreSQL use pg_dump (see README).")
    pages = database_copy.backup_sqlite(url.database, destination)
    click.echo(f"Backed up {pages} pages to {destination}.")


@click.command("purge-unconfirmed")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Delete signatures still unconfirmed after this many days (default: PENDING_RETENTION_DAYS).",
)
def purge_unconfirmed_command(days: int | None) -> None:
    """Delete online signatures and pledges that were never confirmed (for cron, daily)."""
    if days is None:
        days = int(current_app.config["PENDING_RETENTION_DAYS"])
    if days * 86400 < TOKEN_MAX_AGE_SECONDS:
        click.echo(f"Note: confirmation links work for {TOKEN_MAX_AGE_SECONDS // 86400} days; "
                   f"signatures purged sooner can no longer be confirmed from their link.")
    with write_intent():
        removed = signing_service.purge_unconfirmed(timedelta(days=days))
        removed_pledges = pledging.purge_unconfirmed(timedelta(days=days))
        db.session.commit()
    click.echo(
        f"Deleted {removed} unconfirmed signature(s) and {removed_pledges} unconfirmed pledge(s) "
        f"older than {days} day(s)."
    )
@click.command("create-staff")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "organizer"]), required=True, help="What the account may do.")
@click.option(
    "--generate-password", is_flag=True, help="Generate a password and print it once instead of asking for one."
)
def create_staff_command(email: str, role: str, generate_password: bool) -> None:
    """Add a staff account (admins also manage staff and see the audit log)."""
    password = None
    if not generate_password:
        password = click.prompt(
            f"Password (at least {staff_service.MIN_PASSWORD_LENGTH} characters)",
            hide_input=True,
            confirmation_prompt=True,
        )
    try:
        with write_intent():
            user, generated = staff_service.create_staff(email, role, password)
            db.session.commit()
    except staff_service.StaffError as exc:
        db.session.rollback()
        raise click.ClickException(f"Not added: {exc}.") from exc
    click.echo(f"Added {role} {user.email} (staff:{user.id}).")
    if generated:
        click.echo(f"Password (shown only this once): {generated}")


@click.command("export-signatures")
@click.option("--campaign", "slug", help="The campaign's slug.")
@click.option("--all-campaigns", is_flag=True, help="Every campaign's signatories in one file.")
@click.option(
    "--status",
    type=click.Choice(export_service.SIGNATURE_STATUSES),
    default="confirmed",
    show_default=True,
    help="Which signatures.",
)
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First day signed (YYYY-MM-DD, UTC).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last day signed (YYYY-MM-DD, UTC).")
@click.option("--consented", is_flag=True, help="Only signers who agreed to receive updates.")
@click.option("--county", help='Only signers in this county, e.g. "Kings County".')
@click.option("--district", help='Only signers in this district: "SD 12" (Senate) or "AD 65" (Assembly).')
def export_signatures_command(slug, all_campaigns, status, date_from, date_to, consented, county, district) -> None:
    """Write a campaign's signatories as CSV to standard output (progress on standard error)."""
    if bool(slug) == bool(all_campaigns):
        raise click.UsageError("Give --campaign SLUG or --all-campaigns.")
    campaign = None
    if slug:
        campaign = db.session.execute(db.select(Campaign).filter_by(slug=slug)).scalar_one_or_none()
        if campaign is None:
            raise click.ClickException(f"No campaign with the slug {slug!r}.")
    district_id = districts.parse_district(district) if district else None
    if district and district_id is None:
        raise click.UsageError(f"--district {district!r}: write SD 12 (Senate) or AD 65 (Assembly).")
    filters = export_service.ExportFilters(
        district=district_id,
        status=status,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
        consented_only=consented,
        county=county or None,
    )
    export = export_service.signatures_export(campaign, filters)
    # Bytes, so the CSV is UTF-8 whatever the terminal's encoding.
    out = sys.stdout.buffer
    with click.progressbar(length=export.count(), label="Exporting", file=sys.stderr) as bar:
        for text in export_service.stream_csv(export, actor_id=None, via="command", on_rows=bar.update):
            out.write(text.encode("utf-8"))
    out.flush()


@click.command("purge-personal-data")
@click.option("--months", type=click.IntRange(min=0), help="Retention after a campaign closes (default: the config's).")
@click.option("--dry-run", is_flag=True, help="Say what would be anonymised, change nothing.")
def purge_personal_data_command(months: int | None, dry_run: bool) -> None:
    """Anonymise signatures of campaigns closed longer ago than the retention period (counts stay)."""
    if months is None:
        months = int(current_app.config["PERSONAL_DATA_RETENTION_MONTHS"])
    with write_intent():
        purged = privacy_service.purge_personal_data(months, dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    if not dry_run:
        clear_erased_data_from_files()
    verb = "would be anonymised" if dry_run else "anonymised"
    for campaign in purged:
        click.echo(f"{campaign.slug}: {campaign.signatures} signatures {verb}.")
    click.echo(f"{sum(c.signatures for c in purged)} signatures {verb} (campaigns closed over {months} months ago).")


def _rederive_with_progress() -> int:
    """Re-derive every signer's districts from the loaded ones, committing per batch, with a bar."""
    zip_codes = districts.zip_codes_to_rederive()
    shares = districts.zip_shares()
    changed = 0
    with click.progressbar(length=len(zip_codes), label="Placing signers in districts", file=sys.stderr) as bar:
        for start in range(0, len(zip_codes), districts.REDERIVE_BATCH):
            batch = zip_codes[start : start + districts.REDERIVE_BATCH]
            with write_intent():
                changed += districts.rederive_zip_codes(batch, shares)
                db.session.commit()
            bar.update(len(batch))
    return changed


def _open_text(path: str):
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise click.ClickException(f"cannot open {path}: {exc.strerror}") from exc


@click.command("load-districts")
@click.option("--senate", "senate_path", required=True, type=click.Path(dir_okay=False),
              help="Census relationship file of Senate districts and ZCTAs (tab20_sldu..._zcta520_st36.txt).")
@click.option("--assembly", "assembly_path", required=True, type=click.Path(dir_okay=False),
              help="Census relationship file of Assembly districts and ZCTAs (tab20_sldl..._zcta520_st36.txt).")
def load_districts_command(senate_path: str, assembly_path: str) -> None:
    """Replace the Senate and Assembly districts and their ZIP overlaps, then re-place every signer."""
    with _open_text(senate_path) as senate, _open_text(assembly_path) as assembly:
        try:
            with write_intent():
                report = districts.load_districts((senate_path, senate), (assembly_path, assembly))
                db.session.commit()
        except districts.DistrictFileError as exc:
            db.session.rollback()
            raise click.ClickException(f"Nothing loaded: {exc}") from exc
        except UnicodeDecodeError as exc:
            db.session.rollback()
            raise click.ClickException("Nothing loaded: a file is not UTF-8 text.") from exc
    for line in report.lines():
        click.echo(line)
    changed = _rederive_with_progress()
    click.echo(f"Districts re-derived for {changed} signature(s) and pledge(s) placed by ZIP code "
               "(those their signer chose, or staff set, were kept).")


@click.command("load-legislators")
@click.argument("path", type=click.Path())
@click.option("--overwrite-corrections", is_flag=True,
              help="Replace contact details staff corrected by hand with Open States' (kept otherwise).")
def load_legislators_command(path: str, overwrite_corrections: bool) -> None:
    """Update legislators (and committees) from Open States' New York folder or CSV, in place by id."""
    try:
        with write_intent():
            report = legislators.load_legislators(path, overwrite_corrections=overwrite_corrections)
            db.session.commit()
    except legislators.LegislatorFileError as exc:
        db.session.rollback()
        raise click.ClickException(f"Nothing loaded: {exc}") from exc
    for line in report.lines():
        click.echo(line)


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (
        load_content_command,
        seed_demo_command,
        setup_if_empty_command,
        send_pending_mail_command,
        mail_worker_command,
        copy_database_command,
        backup_sqlite_command,
        purge_unconfirmed_command,
        create_staff_command,
        export_signatures_command,
        purge_personal_data_command,
        load_districts_command,
        load_legislators_command,
    ):
        app.cli.add_command(command)
