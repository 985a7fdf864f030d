"""Questions about the assistant itself: who we are, who reads what is written here, how we got
the number, whether it costs anything. Mistrust of "the system" is the seeds' first barrier, so
these get a plain answer (`about_me`) whatever the classifier reads into them."""

from __future__ import annotations

import re

from bot.textmatch import fold

_ABOUT_US = re.compile(
    r"\b(er (du|det|det her) (en |et )?(robot|bot|menneske|rigtig\w* (person|menneske)|"
    r"fra kommunen(?! eller))|hvem er du|hvem (sidder )?(egentlig )?(og )?(laser|ser)|"
    r"gemmer (i|du) (det|mine beskeder|hvad jeg skriver|det jeg skriver)|"
    r"gemmer (i|du) (\w+ ){0,3}(samtalerne|beskederne|samtaler)|"
    r"(kan|ma) (kommunen|min sagsbehandler|nogen|skat|jobcentret) (se|lase) (hvad|det) jeg "
    r"skriver|"
    r"(ser|laser) (kommunen|min sagsbehandler|nogen|i) (hvad|det) jeg skriver|"
    r"stoler ikke pa (kommunen|jer|dig|systemet)|"
    r"(i|du) er (bare |jo bare |ogsa )?(kommunen|fra kommunen|en del af kommunen|systemet)|"
    r"(?<!hvad )er (det|det her|du|i) (bare )?(kommunen|fra kommunen)"
    r"(?! (der )?(betaler|udbetaler|tjekker|kigger|godkender|kontrollerer)| eller)|"
    r"(sender|giver) (i|du) (det|det her|mine beskeder|beskederne|hvad jeg skriver)( \w+)? "
    r"(videre|til)|"
    r"(kan|ma|vil) (kommunen|min sagsbehandler|sagsbehandleren|jobcentret|nogen) (se|lase|fa) "
    r"(det her|det|hvad jeg skriver|mine beskeder)|"
    r"hvad (gemmer|ved|har) (i|du) om (mig|os|mit firma|min virksomhed)|hvem (der )?gemmer|"
    r"hvem star bag (denne|den her|jeres|dig|jer)|hvem har lavet (dig|jer)|"
    r"bliver det (her )?sendt til (min|kommunen|\w+)|"
    r"(videre|direkte) til (jobcentret|kommunen|min sagsbehandler)|"
    r"(far|faar) (kommunen|min sagsbehandler|jobcentret) (at se|at vide) (hvad|det) jeg skriver|"
    r"hvem er (i|jer|i egentlig|det der skriver(?! (min|hans|hendes) lon))|"
    r"hvem (\w+ )?skriver (til mig|her)|"
    r"(hvor|hvordan) har (i|du) (faet |fat )?(fat i )?mit (tlf|telefon)?nummer|mit nummer fra|"
    r"givet (jer|dig) mit nummer|hvordan ved (i|du) (overhovedet )?at jeg|"
    r"(fup|svindel|spam)nummer|spam|"
    r"(i har|har i) (\w+ )?forkert nummer|"
    r"(en )?(besked|sms|paamindelse|pamindelse) fra (jer|det her nummer)|"
    r"koster det (noget|penge)|betale (noget )?for (de her |disse )?(beskeder|sms\w*)|"
    r"hvorfor (sender|skriver) (i|du)|kommunens (stikkere|spioner|forlangede arm)|"
    r"(laser|lytter) (\w+ )?med|ikke bedt om (at fa )?(det her|det|jeres \w+)|"
    r"(i er|er i) (\w+ )?ligeglade|i er nogle \w+|fa det pa papir|"
    r"dataansvarlig\w*|databehandler\w*|gdpr|opbevarer (i|du) (beskederne|data|oplysning\w*)|"
    r"hvem har adgang til (dem|beskederne|de oplysninger|oplysningerne|det jeg skriver)|"
    r"sikker kanal|registreret i (hans|hendes|min) sag|bare er kommunen der|"
    r"(far|faar|horer|ved) (kommunen|min sagsbehandler|jobcentret) det (sa )?at vide|"
    r"er (i|du) fra (skat|kommunen|jobcentret)|frikort ?botten|"
    r"(er det|det er|er i|er du) (vel |nok )?(bare |jo bare |ogsa )?"
    r"(kommunen|jobcentret|min sagsbehandler) der "
    r"(sidder og )?(holder oje|kigger med|overvager|laser med|laser det)|"
    r"hvem (der )?(egentlig )?(laser|ser) (det|hvad) (jeg|man) skriver|"
    r"hvad (gor|bruger) (i|du) (med )?mine oplysninger|"
    r"(i|du) (arbejder|er) (jo |bare |vel )*(for|fra) kommunen og|sladre\w* (om|til)|"
    r"hvem kan (se|lase) (de |mine )?beskeder|(holder|holde) oje med (os|mig)|"
    r"overvager (i|du) (os|mig)|"
    r"hvem er det (egentlig )?(jeg )?(skriver|snakker|taler) med|"
    r"hvem (fanden |satan |helvede )?er du|"
    r"hvem er det her|hvad er det (her )?for en (service|tjeneste|nummer)|"
    r"hvem (far|ser) (de|disse|vores|mine) oplysninger|chatgpt|"
    r"(tro|stole) pa en (chatbot|robot|computer)|med en computer|"
    r"er du (en )?(ai|kunstig intelligens|chatbot)|"
    r"(det her|du|i|beskeden|sms\w*) (\w+ )?(ikke )?er (svindel|fup|scam|phishing|falsk\w*)|"
    r"er det (jer|dig) der (ringer|ringede|skriver|skrev)|"
    r"(do|will) you (save|keep|store|share) (my|the) (messages|data|texts)|who are you|"
    r"who is (this|writing))\b")
"""Questions about the assistant itself, the seeds' first barrier (mistrust of "the system")."""


_ABOUT_PAY = re.compile(r"\b(tjen\w*|lon|lonnen|penge\w*|indkomst|belob\w*)\b")
_CAN_SEE = re.compile(r"\b(kan|ma) (kommunen|min sagsbehandler|sagsbehandleren|jobcentret|nogen) "
                     r"se\b")
"""Whether the municipality can see what one earns is a rule answer (faq_reporting/who_sees)."""


def asked(folded: str, text: str = "") -> bool:
    """Whether the (folded) message asks about us rather than about the card; `text`, the
    message as written, lets "er du en robot? skal bare vide om kort 51209 er aktivt" be
    answered for what it asks next."""
    return _ABOUT_US.search(folded) is not None \
        and not (_ABOUT_PAY.search(folded) and _CAN_SEE.search(folded)) \
        and not _OWN_FIGURES.search(folded) and not _WANTS_A_PERSON.search(folded) \
        and not _WHO_PAYS.search(folded) and not _SIGNING_UP.search(folded) \
        and not _asks_more_after(text)


def _asks_more_after(text: str) -> bool:
    first, _, rest = text.partition("?")
    rest = fold(rest)
    return bool(rest) and len(rest.split()) >= _MORE_WORDS \
        and _ARE_YOU.match(fold(first)) is not None and _ABOUT_US.search(rest) is None


_WHO_PAYS = re.compile(r"\bhvem (ud)?betaler\b")
_SIGNING_UP = re.compile(r"\b(registrer\w*|tilmeld\w*|opretter) (man|vi|jeg) (sin|vores|min|en) "
                         r"(virksomhed|firma)")
""""Hvordan registrerer man sin virksomhed, og koster det noget": signing up, not who we are."""
""""Hvem udbetaler pengene, er det kommunen": who pays, not who we are."""
_MORE_WORDS = 4
_ARE_YOU = re.compile(r"^(hej |hey )?er (du|det) (en |et )?(robot|bot|menneske|ai|chatbot)$")
_WANTS_A_PERSON = re.compile(r"\b(snakke|tale|skrive) med (et|en) (rigtigt? )?(menneske|person)\b")
"""Asking for a person, even when it starts with "er du et menneske?": the person."""


_OWN_FIGURES = re.compile(r"\bhvor meget (har jeg|mangler jeg|er der) (\w+ ){0,2}tilbage\b|"
                          r"\bhvad har jeg tjent\b")
"""A reminder from us quoted before asking what is left: the balance, not who we are."""
