"""Hardening (issue 16): a link key on every record that emailed links name

Revision ID: c16000000001
Revises: 0ffa728af0a2
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c16000000001"
down_revision = "0ffa728af0a2"
branch_labels = None
depends_on = None

#: Tables whose rows emailed links name. Rows made before this revision keep no key
#: (NULL), so the links already sent for them still work; every new row gets one.
LINKED_TABLES = ("signatures", "pledges", "endorsements")


def upgrade():
    for table in LINKED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("link_key", sa.String(length=32), nullable=True))


def downgrade():
    for table in LINKED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("link_key")
