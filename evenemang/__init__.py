"""Evenemang: venue and studio booking, calendar feeds and notifications."""
