"""Partner sites: other websites of a partner that staff add, each with its own embed address

Revision ID: h21000000001
Revises: g20000000001
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa

from coalition.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = "h21000000001"
down_revision = "g20000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "partner_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("scheme", sa.String(length=5), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("scheme IN ('http', 'https')", name=op.f("ck_partner_sites_scheme")),
        sa.CheckConstraint("domain = lower(domain)", name=op.f("ck_partner_sites_domain_lower_case")),
        sa.ForeignKeyConstraint(["added_by_id"], ["staff_users.id"], name=op.f("fk_partner_sites_added_by_id_staff_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], name=op.f("fk_partner_sites_organization_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_sites")),
        sa.UniqueConstraint("domain", name=op.f("uq_partner_sites_domain")),
    )
    with op.batch_alter_table("partner_sites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_sites_organization_id"), ["organization_id"], unique=False)


def downgrade():
    with op.batch_alter_table("partner_sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_sites_organization_id"))
    op.drop_table("partner_sites")
