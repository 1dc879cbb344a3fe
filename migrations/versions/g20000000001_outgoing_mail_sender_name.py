"""Queued mail keeps its From name in the recipient's language

Revision ID: g20000000001
Revises: f19000000001
Create Date: 2026-12-02 00:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "g20000000001"
down_revision = "f19000000001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender_name", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_column("sender_name")
