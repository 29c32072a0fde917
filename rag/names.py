"""How articles write a name a question gives otherwise: "Which Japanese company…" of an article that says "Japan's",
"ETFs" of one that says "exchange-traded funds"."""

import re

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


def name_forms(name: str) -> tuple[str, ...]:
    """A lower-case name and the other ways articles write it: "japanese" -> japan. Not the reverse: a question naming
    a country asks about it, and "Swiss" scientists' count of 20 glaciers is no count of Switzerland's."""
    return (name, *NATIONALITIES.get(name, ()))


def spells_out(acronym: str, plain: str) -> bool:
    """Whether the lower-case text writes out the acronym as the initials of as many words ("etfs" / "exchange-traded
    funds", "ipo" / "initial public offering", "boj" / "bank of japan")."""
    letters = acronym.removesuffix("s") if len(acronym) > 2 else acronym
    return re.search(r"\b" + r"[\w']*[\s-]+".join(map(re.escape, letters)) + r"\w*", plain) is not None
