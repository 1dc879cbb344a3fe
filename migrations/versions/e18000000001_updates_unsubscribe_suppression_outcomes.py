"""Updates to supporters: the updates, suppressions, the shared bulk-mail rate, outcomes, consents on pledges

Revision ID: e18000000001
Revises: d17000000001
Create Date: 2026-12-01 23:04:28.930197

"""
import secrets

from alembic import op
import sqlalchemy as sa
import coalition.models.types


# revision identifiers, used by Alembic.
revision = 'e18000000001'
down_revision = 'd17000000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_rate_limits',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('next_at', coalition.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_mail_rate_limits'))
    )
    op.create_table('mail_suppressions',
    sa.Column('mailbox_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', coalition.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('mailbox_hash', name=op.f('pk_mail_suppressions'))
    )
    site_keys = op.create_table('site_keys',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_site_keys'))
    )
    # The suppression list's own key, made here so no request has to write it.
    op.bulk_insert(site_keys, [{'name': 'suppression', 'value': secrets.token_hex(32)}])
    op.create_table('mail_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('subject_es', sa.String(length=200), nullable=False),
    sa.Column('body_es', sa.Text(), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', coalition.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('send_started_at', coalition.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', coalition.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', coalition.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('queued_count', sa.Integer(), nullable=False),
    sa.Column('sent_count', sa.Integer(), nullable=False),
    sa.Column('cancelled_count', sa.Integer(), nullable=False),
    sa.Column('queue_cursor', sa.String(length=320), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'queueing', 'sending', 'sent', 'cancelled')", name=op.f('ck_mail_updates_status')),
    sa.CheckConstraint("subject <> ''", name=op.f('ck_mail_updates_subject_not_empty')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_mail_updates_created_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['staff_users.id'], name=op.f('fk_mail_updates_sent_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_updates'))
    )
    with op.batch_alter_table('mail_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_updates_status'), ['status'], unique=False)

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('outcome_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('outcome_text', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('outcome_text_es', sa.Text(), nullable=False, server_default=''))
        batch_op.create_check_constraint(
            op.f('ck_campaigns_outcome'), "outcome IS NULL OR outcome IN ('delivered', 'won', 'lost', 'no_result')"
        )

    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('list_unsubscribe', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint(op.f('ck_outgoing_mail_priority'), 'priority IN (0, 1)')
        batch_op.add_column(sa.Column('update_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_outgoing_mail_priority_next_attempt_at', ['priority', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_mail_update_id'), ['update_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outgoing_mail_update_id_mail_updates'), 'mail_updates', ['update_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wants_updates', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('updates_consented_at', coalition.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('updates_withdrawn_at', coalition.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_pledges_consent_has_time'), 'wants_updates = false OR updates_consented_at IS NOT NULL'
        )

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updates_withdrawn_at', coalition.models.types.UTCDateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('updates_withdrawn_at')

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_pledges_consent_has_time'), type_='check')
        batch_op.drop_column('updates_withdrawn_at')
        batch_op.drop_column('updates_consented_at')
        batch_op.drop_column('wants_updates')

    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outgoing_mail_update_id_mail_updates'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_update_id'))
        batch_op.drop_index('ix_outgoing_mail_priority_next_attempt_at')
        batch_op.drop_column('update_id')
        batch_op.drop_constraint(op.f('ck_outgoing_mail_priority'), type_='check')
        batch_op.drop_column('priority')
        batch_op.drop_column('list_unsubscribe')
        batch_op.drop_column('body_html')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_campaigns_outcome'), type_='check')
        batch_op.drop_column('outcome_text_es')
        batch_op.drop_column('outcome_text')
        batch_op.drop_column('outcome_on')
        batch_op.drop_column('outcome')

    with op.batch_alter_table('mail_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_updates_status'))

    op.drop_table('mail_updates')
    op.drop_table('site_keys')
    op.drop_table('mail_suppressions')
    op.drop_table('mail_rate_limits')
