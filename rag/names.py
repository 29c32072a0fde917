"""How articles write a name a question gives otherwise: "Which Japanese company…" of an article that says "Japan's",
"ETFs" of one that says "exchange-traded funds"."""

import re
from collections.abc import Callable

# Each nationality or regional adjective and how articles name its place (lower case, as the names gate reads text).
NATIONALITIES: dict[str, tuple[str, ...]] = {
    "american": ("america", "united states", "u.s."),
    "british": ("britain", "united kingdom", "u.k."),
    "english": ("england",),
    "scottish": ("scotland",),
    "welsh": ("wales",),
    "irish": ("ireland",),
    "french": ("france",),
    "german": ("germany",),
    "dutch": ("netherlands", "holland"),
    "belgian": ("belgium",),
    "swiss": ("switzerland",),
    "austrian": ("austria",),
    "italian": ("italy",),
    "spanish": ("spain",),
    "portuguese": ("portugal",),
    "swedish": ("sweden",),
    "norwegian": ("norway",),
    "danish": ("denmark",),
    "finnish": ("finland",),
    "icelandic": ("iceland",),
    "polish": ("poland",),
    "czech": ("czechia",),
    "slovak": ("slovakia",),
    "hungarian": ("hungary",),
    "romanian": ("romania",),
    "bulgarian": ("bulgaria",),
    "greek": ("greece",),
    "turkish": ("turkey", "turkiye"),
    "russian": ("russia",),
    "ukrainian": ("ukraine",),
    "chinese": ("china",),
    "japanese": ("japan",),
    "korean": ("korea",),
    "indian": ("india",),
    "pakistani": ("pakistan",),
    "bangladeshi": ("bangladesh",),
    "vietnamese": ("vietnam",),
    "thai": ("thailand",),
    "indonesian": ("indonesia",),
    "malaysian": ("malaysia",),
    "filipino": ("philippines",),
    "australian": ("australia",),
    "canadian": ("canada",),
    "mexican": ("mexico",),
    "brazilian": ("brazil",),
    "argentine": ("argentina",),
    "argentinian": ("argentina",),
    "chilean": ("chile",),
    "colombian": ("colombia",),
    "peruvian": ("peru",),
    "egyptian": ("egypt",),
    "nigerian": ("nigeria",),
    "kenyan": ("kenya",),
    "ethiopian": ("ethiopia",),
    "ghanaian": ("ghana",),
    "israeli": ("israel",),
    "iranian": ("iran",),
    "iraqi": ("iraq",),
    "saudi": ("saudi arabia",),
    "emirati": ("emirates",),
    "qatari": ("qatar",),
    "syrian": ("syria",),
    "lebanese": ("lebanon",),
    "european": ("europe",),
    "african": ("africa",),
    "asian": ("asia",),
    "arab": (),
    "latin": (),
    "scandinavian": ("scandinavia",),
    "nordic": (),
    "baltic": (),
    "balkan": ("balkans",),
}


# A regular nationality names its place by its stem and another ending: "moroccan" -> morocco, "taiwanese" ->
# taiwan, "mongolian" -> mongolia, "nepali" -> nepal, "cuban" -> cuba (the list above holds the irregular ones).
_REGULAR_ENDINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ese", ("",)),
    ("ian", ("ia", "a", "i")),
    ("an", ("o", "a")),
    ("ish", ("", "land")),
    ("i", ("",)),
)


def name_forms(name: str, known: Callable[[str], bool]) -> tuple[str, ...]:
    """A lower-case name and the other ways articles write it: "japanese" -> japan, "moroccan" -> morocco (a regular
    nationality's place only when `known`, a word the articles use: "japan" is no nationality of a "japa"). Not the
    reverse: a question naming a country asks about it, and "Swiss" scientists' count of 20 glaciers is no count of
    Switzerland's."""
    listed = NATIONALITIES.get(name)
    if listed is not None:
        return (name, *listed)
    return (name, *(place for place in _regular_places(name) if known(place)))


def _regular_places(name: str) -> tuple[str, ...]:
    """The places a regular nationality may name, by its first matching ending; none under four letters."""
    for ending, places in _REGULAR_ENDINGS:
        stem = name.removesuffix(ending)
        if stem != name:
            return tuple(stem + place for place in places if len(stem + place) >= 4)
    return ()


_LINKING_WORDS = r"(?:(?:and|of|for|the|on|&)\s+)?"  # an acronym may leave them out ("fda", "fbi") or keep them ("boj")


def spells_out(acronym: str, plain: str) -> bool:
    """Whether the lower-case text writes out the acronym as the initials of as many words, its linking words
    ("and", "of") counted or not ("etfs" / "exchange-traded funds", "boj" / "bank of japan", "fda" / "food and drug
    administration", "fbi" / "federal bureau of investigation")."""
    letters = acronym.removesuffix("s") if len(acronym) > 2 else acronym
    return re.search(r"\b" + (r"[\w']*[\s-]+" + _LINKING_WORDS).join(map(re.escape, letters)) + r"\w*", plain) is not None
