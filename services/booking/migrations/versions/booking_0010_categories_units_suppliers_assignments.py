"""categories and units (lists admins keep), suppliers, who does each line's job and the
hours delivered, consent to be recorded and the participants who opted out

Revision ID: booking_0010
Revises: booking_0009
Create Date: 2026-12-03 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "booking_0010"
down_revision: str | None = "booking_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The categories a school's events fall into; admins add, rename and retire them.
CATEGORIES = (
    ("seminar", "Seminarium", "Seminar"),
    ("conference", "Konferens", "Conference"),
    ("public-lecture", "Öppen föreläsning", "Public lecture"),
    ("reception", "Mottagning", "Reception"),
    ("recording", "Inspelning/podd", "Recording/podcast"),
    ("internal-meeting", "Internt möte", "Internal meeting"),
    ("other", "Annat", "Other"),
)


def _list(name: str) -> sa.Table:
    return op.create_table(
        name,
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name_sv", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("slug"),
    )


def upgrade() -> None:
    categories = _list("categories")
    op.bulk_insert(
        categories,
        [
            {"slug": slug, "name_sv": sv, "name_en": en, "position": n, "active": True}
            for n, (slug, sv, en) in enumerate(CATEGORIES)
        ],
    )
    _list("units")
    op.create_table(
        "suppliers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("agreement_ref", sa.String(length=100), nullable=False),
        sa.Column("hourly_rate", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="SEK", nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("email", sa.String(length=254), server_default="", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "recording_opt_outs",
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("booking_id", "email"),
    )

    op.add_column("bookings", sa.Column("category", sa.String(length=40), nullable=True))
    op.add_column("bookings", sa.Column("unit", sa.String(length=40), nullable=True))
    op.create_index("ix_bookings_category", "bookings", ["category"], unique=False)
    op.create_index("ix_bookings_unit", "bookings", ["unit"], unique=False)
    for column in ("recording_photo", "recording_film"):
        op.add_column(
            "bookings", sa.Column(column, sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.add_column(
        "bookings", sa.Column("recording_notice", sa.Text(), server_default="", nullable=False)
    )

    line = "booking_resources"
    op.add_column(line, sa.Column("assignee_kind", sa.String(length=8), nullable=True))
    op.add_column(line, sa.Column("assignee_email", sa.String(length=254), nullable=True))
    op.add_column(line, sa.Column("supplier_id", sa.String(length=36), nullable=True))
    op.add_column(
        line, sa.Column("hours_delivered", sa.Numeric(precision=7, scale=2), nullable=True)
    )
    op.add_column(line, sa.Column("assigned_by", sa.String(length=254), nullable=True))
    op.add_column(
        line, sa.Column("assigned_at", shared.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_booking_resources_assignee_email", line, ["assignee_email"], unique=False)
    op.create_index("ix_booking_resources_supplier_id", line, ["supplier_id"], unique=False)


def downgrade() -> None:
    line = "booking_resources"
    op.drop_index("ix_booking_resources_supplier_id", table_name=line)
    op.drop_index("ix_booking_resources_assignee_email", table_name=line)
    with op.batch_alter_table(line) as batch:
        for column in (
            "assigned_at",
            "assigned_by",
            "hours_delivered",
            "supplier_id",
            "assignee_email",
            "assignee_kind",
        ):
            batch.drop_column(column)
    op.drop_index("ix_bookings_unit", table_name="bookings")
    op.drop_index("ix_bookings_category", table_name="bookings")
    with op.batch_alter_table("bookings") as batch:
        for column in ("recording_notice", "recording_film", "recording_photo", "unit", "category"):
            batch.drop_column(column)
    op.drop_table("recording_opt_outs")
    op.drop_table("suppliers")
    op.drop_table("units")
    op.drop_table("categories")
