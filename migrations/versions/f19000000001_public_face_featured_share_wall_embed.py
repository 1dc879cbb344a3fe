"""The public face: featured campaign, share images, the wall, referrals and partner embeds

Revision ID: f19000000001
Revises: e18000000001
Create Date: 2026-12-01 23:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "f19000000001"
down_revision = "e18000000001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("featured", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("share_image", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("share_image_alt", sa.String(length=300), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("share_image_alt_es", sa.String(length=300), nullable=False, server_default=""))

    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden_from_wall", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("referral", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_signatures_partner_id"), ["partner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_signatures_partner_id_organizations"),
            "organizations",
            ["partner_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("endorsements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("show_embed_count", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("endorsements", schema=None) as batch_op:
        batch_op.drop_column("show_embed_count")

    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_signatures_partner_id_organizations"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_signatures_partner_id"))
        batch_op.drop_column("partner_id")
        batch_op.drop_column("referral")
        batch_op.drop_column("hidden_from_wall")

    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("share_image_alt_es")
        batch_op.drop_column("share_image_alt")
        batch_op.drop_column("share_image")
        batch_op.drop_column("featured")
