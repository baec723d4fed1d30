"""The Swedish (and a friendlier English) of the messages booking's schemas and rules give
in English. Being replaced by message ids in the catalogue (shared/messages.py)."""

# Messages the API's schemas and the booking rules give in English, by pattern: (pattern,
# Swedish, friendlier English or None to keep the original).
MESSAGES: list[tuple[str, str, str | None]] = [
    (r"^must be after start\.?$", "Måste vara efter starten.", "Must be after the start."),
    (
        r"^one occurrence may last at most 14 days$",
        "Ett tillfälle får vara högst 14 dagar.",
        "One date may last at most 14 days.",
    ),
    (r"^must be in the future$", "Måste ligga i framtiden.", "Must be in the future."),
    (
        r"^(?P<name>.+): is not bookable \(inactive\)$",
        "{name}: kan inte bokas just nu.",
        "{name}: cannot be booked at the moment.",
    ),
    (
        r"^(?P<name>.+): holds at most (?P<n>\d+) people$",
        "{name}: rymmer högst {n} personer.",
        "{name}: holds at most {n} people.",
    ),
    (
        r"^(?P<name>.+): needs (?P<n>\d+) hours' notice$",
        "{name}: måste bokas minst {n} timmar i förväg.",
        "{name}: must be booked at least {n} hours ahead.",
    ),
    (
        r"^(?P<name>.+): can be booked at most (?P<n>\d+) days ahead$",
        "{name}: kan bokas högst {n} dagar i förväg.",
        "{name}: can be booked at most {n} days ahead.",
    ),
    (
        r"^(?P<name>.+): can be booked for at most (?P<n>\d+) minutes$",
        "{name}: kan bokas i högst {n} minuter.",
        "{name}: can be booked for at most {n} minutes.",
    ),
    (
        r"^(?P<name>.+): is closed then \((?P<when>.+)\); see its opening hours$",
        "{name}: har stängt då ({when}); se öppettiderna.",
        "{name}: is closed then ({when}); see its opening hours.",
    ),
    (
        r"^(?P<name>.+?): is closed (?P<start>\d{4}-\d\d-\d\d \d\d:\d\d)–"
        r"(?P<end>\d{4}-\d\d-\d\d \d\d:\d\d): (?P<reason>.*)$",
        "{name}: är stängd {start}–{end}: {reason}",
        None,
    ),
    (r"^not a valid RRULE: (?P<detail>.*)$", "Ogiltig upprepning: {detail}", None),
    (
        r"^use COUNT or UNTIL, not both$",
        "Ange antal gånger eller sista datum, inte båda.",
        "Give a number of times or a last date, not both.",
    ),
    (
        r"^occurrences overlap each other; make them shorter or further apart$",
        "Tillfällena överlappar varandra; gör dem kortare eller glesare.",
        "The dates overlap each other; make them shorter or further apart.",
    ),
    (r"^Remove the control characters\.$", "Ta bort kontrolltecknen.", None),
    (
        r"^a series needs COUNT or UNTIL$",
        "En serie behöver ett antal eller ett slutdatum.",
        "A series needs a number of times or a last date.",
    ),
    (
        r"^yields more than (?P<n>\d+) occurrences; shorten it$",
        "Ger fler än {n} tillfällen; korta serien.",
        "Gives more than {n} dates; shorten it.",
    ),
    (r"^yields no occurrence$", "Ger inga tillfällen.", "Gives no dates."),
    (r"^give the RRULE alone, without DTSTART$", "Ange regeln utan DTSTART.", None),
    (r"^unknown resource (?P<id>.+)$", "Okänd resurs {id}.", "Unknown resource {id}."),
    (r"^Name each resource once\.$", "Välj varje resurs en gång.", "Choose each resource once."),
    (
        r"^a resource with the slug '(?P<slug>.+)' exists$",
        "Det finns redan en resurs med kortnamnet ”{slug}”.",
        "A resource with the short name “{slug}” exists already.",
    ),
    (
        r"^a (?P<status>\w+) booking cannot be (?P<action>\w+)$",
        "Det går inte i det här läget ({status}).",
        "A {status} booking cannot be {action}.",
    ),
    (
        r"^occurrence (?P<n>\d+) is already cancelled$",
        "Datumet är redan inställt.",
        "That date is already cancelled.",
    ),
    (r"^Missing data for required field\.$", "Fyll i det här fältet.", "Fill in this field."),
    (r"^Field may not be null\.$", "Fyll i det här fältet.", "Fill in this field."),
    (r"^Not a valid integer\.$", "Ange ett heltal.", "Give a whole number."),
    (
        r"^Not a valid email address\.$",
        "Inte en giltig e-postadress.",
        "Not a valid email address.",
    ),
    (r"^Not a valid string\.$", "Ogiltig text.", None),
    (r"^Shorter than minimum length 1\.$", "Fyll i det här fältet.", "Fill in this field."),
    (
        r"^Shorter than minimum length (?P<n>\d+)\.$",
        "Fyll i minst {n} tecken.",
        "Give at least {n} characters.",
    ),
    (r"^Longer than maximum length (?P<n>\d+)\.$", "Högst {n} tecken.", "At most {n} characters."),
    (
        r"^Length must be between 1 and (?P<b>\d+)\.$",
        "Fyll i fältet, högst {b} tecken.",
        "Fill in this field, at most {b} characters.",
    ),
    (
        r"^Length must be between (?P<a>\d+) and (?P<b>\d+)\.$",
        "Ange {a} till {b} tecken.",
        "Give {a} to {b} characters.",
    ),
    (
        r"^Must be greater than or equal to (?P<a>-?\d+) and less than or equal to "
        r"(?P<b>-?\d+)\.$",
        "Ange ett tal från {a} till {b}.",
        "Give a number from {a} to {b}.",
    ),
    (r"^Must be greater than or equal to (?P<a>-?\d+)\.$", "Ange minst {a}.", "Give at least {a}."),
    (r"^Must be one of: (?P<c>.+)\.$", "Välj något av: {c}.", "Choose one of: {c}."),
    (r"^Unknown field\.$", "Okänt fält.", None),
    (
        r"^Use lower-case letters, digits and single hyphens\.$",
        "Använd små bokstäver, siffror och enkla bindestreck.",
        None,
    ),
    (r"^Give a year between (?P<a>\d+) and (?P<b>\d+)\.$", "Ange ett år mellan {a} och {b}.", None),
    (r"^Not a valid date and time.*$", "Ogiltigt datum eller tid.", "Not a valid date and time."),
    (
        r"^(?P<day>\w+): (?P<a>[\d:]+)–(?P<b>[\d:]+) closes before it opens\.$",
        "{day}: {a}–{b} stänger innan det öppnar.",
        None,
    ),
    (r"^(?P<day>\w+): windows overlap\.$", "{day}: tiderna överlappar.", None),
]
