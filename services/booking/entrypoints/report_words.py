"""The words of the reports whose ids are chosen at run time (a column, a grouping, a
report's name and introduction), each written out with ``N_`` so the catalogue's
extraction sees it; :func:`heading` and the pages look them up here."""

from __future__ import annotations

from shared.messages import N_

# A column's header (files and tables), and a total's label.
HEADINGS = {
    "approved_hours": N_("report_col_approved_hours"),
    "assignee": N_("report_col_assignee"),
    "assignee_kind": N_("report_col_assignee_kind"),
    "attendees": N_("report_col_attendees"),
    "booked_hours": N_("report_col_booked_hours"),
    "booking_id": N_("report_col_booking_id"),
    "booking_status": N_("report_col_booking_status"),
    "category": N_("report_col_category"),
    "category_name": N_("report_col_category_name"),
    "decided": N_("report_col_decided"),
    "declined": N_("report_col_declined"),
    "declined_hours": N_("report_col_declined_hours"),
    "declined_share": N_("report_col_declined_share"),
    "end": N_("report_col_end"),
    "events": N_("report_col_events"),
    "hour": N_("report_col_hour"),
    "hours": N_("report_col_hours"),
    "hours_delivered": N_("report_col_hours_delivered"),
    "in_house_cost_at_rates": N_("report_col_in_house_cost_at_rates"),
    "in_house_hours": N_("report_col_in_house_hours"),
    "kind": N_("report_col_kind"),
    "line_status": N_("report_col_line_status"),
    "lines": N_("report_col_lines"),
    "median_hours": N_("report_col_median_hours"),
    "occurrence": N_("report_col_occurrence"),
    "occurrence_status": N_("report_col_occurrence_status"),
    "open_hours": N_("report_col_open_hours"),
    "opt_outs": N_("report_col_opt_outs"),
    "opted_out": N_("report_col_opted_out"),
    "p90_hours": N_("report_col_p90_hours"),
    "period": N_("report_col_period"),
    "reason": N_("report_col_reason"),
    "reference_rate": N_("report_col_reference_rate"),
    "requested_hours": N_("report_col_requested_hours"),
    "resource": N_("report_col_resource"),
    "resource_name": N_("report_col_resource_name"),
    "rows": N_("report_col_rows"),
    "share": N_("report_col_share"),
    "start": N_("report_col_start"),
    "supplier_cost": N_("report_col_supplier_cost"),
    "supplier_hours": N_("report_col_supplier_hours"),
    "team": N_("report_col_team"),
    "team_name": N_("report_col_team_name"),
    "title": N_("report_col_title"),
    "unit": N_("report_col_unit"),
    "unit_name": N_("report_col_unit_name"),
    "weekday": N_("report_col_weekday"),
}

# A grouping in the filters and a report's heading.
GROUPS = {
    "category": N_("report_group_category"),
    "hour": N_("report_group_hour"),
    "month": N_("report_group_month"),
    "quarter": N_("report_group_quarter"),
    "reason": N_("report_group_reason"),
    "resource": N_("report_group_resource"),
    "team": N_("report_group_team"),
    "unit": N_("report_group_unit"),
    "week": N_("report_group_week"),
    "year": N_("report_group_year"),
}

# What each report shows, under its tabs.
INTROS = {
    "decisions": N_("report_intro_decisions"),
    "events": N_("report_intro_events"),
    "occupancy": N_("report_intro_occupancy"),
    "services": N_("report_intro_services"),
}

# A report's name (tabs, titles, a workbook's sheet).
NAMES = {
    "bookings": N_("report_bookings"),
    "decisions": N_("report_decisions"),
    "events": N_("report_events"),
    "occupancy": N_("report_occupancy"),
    "services": N_("report_services"),
}
