"""Calendar's words, Swedish and English."""

PHRASES = {
    "subscribe_title": ("Prenumerera på kalendrar", "Subscribe to calendars"),
    "subscribe_intro": (
        "Lägg till en kalender en gång i Outlook, Google Kalender eller Apple Kalender, så "
        "syns ändringar vid nästa uppdatering.",
        "Add a calendar once in Outlook, Google Calendar or Apple Calendar and changes show "
        "at its next refresh.",
    ),
    "feeds": ("Kalendrar", "Calendars"),
    "feed_public": ("Alla publika evenemang", "All public events"),
    "subscribe": ("Prenumerera", "Subscribe"),
    "private_feed": ("Mina bokningar", "My bookings"),
    "private_feed_intro": (
        "En personlig länk med dina bokningar i alla lägen (och förfrågningar du beslutar om). "
        "Dela den inte: den som har länken ser kalendern.",
        "A personal link with your bookings in every state (and requests you decide on). "
        "Don't share it: whoever has the link sees the calendar.",
    ),
    "create_private_feed": ("Skapa personlig länk", "Create personal link"),
    "label": ("Namn på länken (valfritt)", "Name of the link (optional)"),
    "new_private_feed": ("Din nya personliga kalender", "Your new personal calendar"),
    "new_private_feed_once": (
        "Länken visas bara nu. Kopiera den eller prenumerera direkt.",
        "The link is shown only now. Copy it or subscribe at once.",
    ),
    "active_private_feeds": (
        "Du har {count} aktiva personliga länkar.",
        "You have {count} active personal links.",
    ),
    "login_for_private": ("Logga in för en personlig kalender", "Log in for a personal calendar"),
    "howto": ("Så prenumererar du", "How to subscribe"),
    "howto_outlook": (
        "Outlook: Lägg till kalender → Prenumerera från webben, klistra in https-länken.",
        "Outlook: Add calendar → Subscribe from web, paste the https link.",
    ),
    "howto_google": (
        "Google Kalender: Andra kalendrar → + → Från webbadress, klistra in https-länken. "
        "Google uppdaterar några gånger per dygn.",
        "Google Calendar: Other calendars → + → From URL, paste the https link. Google "
        "refreshes a few times a day.",
    ),
    "howto_apple": (
        "Apple Kalender: Arkiv → Ny kalenderprenumeration, klistra in länken, eller klicka "
        "Prenumerera.",
        "Apple Calendar: File → New Calendar Subscription, paste the link, or click Subscribe.",
    ),
}
