"""Booking's HTML forms, one module each. Every form is a schema over the API's own (the
same fields and rules, from ``services.booking.schemas``) that reads the form's shape (date
and time fields, weekday boxes, addresses pasted as text) and loads straight into the same
command the API produces; its errors are message ids by form field."""
