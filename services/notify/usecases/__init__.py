"""Notify's use cases, one unit of work each, returning plain read models: plan the mail a
batch of events calls for (``planning``), queue due reminders (``reminders``), send due mail
(``sending``), list the delivery log (``deliveries``) and read the mail sink (``outbox``)."""
