"""calendar: ICS feeds built from a read model of booking events."""

from services.calendar.app import create_app

__all__ = ["create_app"]
