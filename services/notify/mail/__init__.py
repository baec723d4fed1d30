"""Building mail: the words (``wording``), the bodies from one template per kind
(``rendering``), the iMIP calendar (``imip``), addresses (``addresses``), the whole message
as bytes (``message``) and sending it over SMTP or into the sink (``smtp``)."""
