"""Booking's HTML pages: server-rendered forms over the same use cases as the JSON API."""

from services.booking.entrypoints.pages import (  # noqa: F401 - importing attaches the routes
    account,
    assignment_pages,
    catalog_pages,
    decide,
    decisions,
    errors,
    navigation,
    password_pages,
    people_pages,
    queue,
    request_form,
    request_pages,
    resource_pages,
    settings_pages,
    single_sign_on,
    team_pages,
)
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.formatting import install_filters

install_filters(bp)

__all__ = ["bp"]
