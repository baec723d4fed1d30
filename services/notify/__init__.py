"""notify: mail to organisers, deciders and participants, from booking events."""

from services.notify.app import create_app

__all__ = ["create_app"]
