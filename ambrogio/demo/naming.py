"""What a service's name says about it, so that the demo never contradicts itself.

"Fisioterapia a domicilio" is delivered at home only, "Sostegno psicologico online" online
only, "Soggiorno climatico per anziani" is for the elderly and "Ginnastica dolce over 65" from
65. The generator draws a service's delivery modes and target groups from its sub-category's
profile, then lets the name overrule them; no random draw depends on it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ambrogio.enums import Delivery, TargetGroup

# (words in the name, the only delivery modes such a service has)
DELIVERY_WORDS: tuple[tuple[str, tuple[Delivery, ...]], ...] = (
    ("a domicilio", (Delivery.AT_HOME,)),
    ("domiciliare", (Delivery.AT_HOME,)),
    ("online", (Delivery.ONLINE,)),
    ("ritiro e consegna", (Delivery.ON_SITE, Delivery.AT_HOME)),
    ("consegna", (Delivery.AT_HOME,)),
    ("telesoccorso", (Delivery.AT_HOME,)),
)
# (words in the name, the only target group such a service has)
GROUP_WORDS: tuple[tuple[str, TargetGroup], ...] = (
    ("anziani", TargetGroup.ELDERLY),
    ("over 6", TargetGroup.ELDERLY),
    ("famiglie", TargetGroup.FAMILIES),
    ("genitorial", TargetGroup.FAMILIES),
    ("stranieri", TargetGroup.ADULTS),
    ("over 5", TargetGroup.ADULTS),
)
_OVER = re.compile(r"\bover (\d{2})\b")


def named_delivery(name: str, drawn: Sequence[Delivery]) -> list[Delivery]:
    """The modes the name says, else those drawn."""
    folded = name.casefold()
    for words, modes in DELIVERY_WORDS:
        if words in folded:
            return list(modes)
    return list(drawn)


def named_groups(name: str, drawn: Sequence[TargetGroup]) -> list[TargetGroup]:
    """The group the name says, else those drawn."""
    folded = name.casefold()
    for words, group in GROUP_WORDS:
        if words in folded:
            return [group]
    return list(drawn)


def named_min_age(name: str, usual: int | None) -> int | None:
    """ "over 65" is a minimum age of 65; else the profile's."""
    found = _OVER.search(name.casefold())
    return int(found.group(1)) if found else usual
