"""The SMS alphabet, in one place: what GSM-7 can carry and what costs two septets."""

from __future__ import annotations

# The GSM 03.38 basic character set plus its extension table: anything else forces UCS-2 and
# cuts an SMS from 160 to 70 characters.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€")
