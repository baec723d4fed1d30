"""booking: the system of record for venues, studios, services and their bookings."""

from services.booking.app import create_app

__all__ = ["create_app"]
