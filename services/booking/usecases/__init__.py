"""Booking's use cases: one function per thing a user does, each its own transaction, each
writing its events to the outbox in that transaction."""
