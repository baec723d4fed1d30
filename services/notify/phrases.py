"""Notify's words on its pages, Swedish and English (the mails' words are template files)."""

PHRASES = {
    "outbox_title": ("Utkorgen", "Outbox"),
    "outbox_intro": (
        "Ingen SMTP-server är inställd, så e-post sparas här i stället för att skickas "
        "(som .eml-filer i datakatalogen).",
        "No SMTP server is configured, so mail is kept here instead of being sent (as .eml "
        "files in the data directory).",
    ),
    "outbox_smtp": (
        "E-post skickas via SMTP (EVENEMANG_SMTP_URL). Här syns bara det som sparades innan dess.",
        "Mail is sent through SMTP (EVENEMANG_SMTP_URL). Only what was kept before that shows "
        "here.",
    ),
    "outbox_empty": ("Inga meddelanden ännu.", "No messages yet."),
    "outbox_count": ("{count} meddelanden, nyast först.", "{count} messages, newest first."),
    "subject": ("Ämne", "Subject"),
    "to": ("Till", "To"),
    "from": ("Från", "From"),
    "reply_to": ("Svar till", "Reply-To"),
    "date": ("Datum", "Date"),
    "message_id": ("Meddelande-id", "Message-ID"),
    "no_subject": ("(inget ämne)", "(no subject)"),
    "text_part": ("Text", "Text"),
    "html_part": ("HTML", "HTML"),
    "calendar_part": ("Kalender ({method})", "Calendar ({method})"),
    "attachments": ("Bilagor", "Attachments"),
    "download_eml": ("Ladda ner .eml", "Download .eml"),
    "back_to_outbox": ("Tillbaka till utkorgen", "Back to the outbox"),
    "html_frame": ("Meddelandet som HTML", "The message as HTML"),
    "forbidden": ("Bara administratörer ser utkorgen.", "Only administrators see the outbox."),
    "not_found": ("Meddelandet finns inte.", "No such message."),
}
