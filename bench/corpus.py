"""A generator of varied, news-like articles and questions whose answers they hold, for benchmarks at any size.

Article `i` takes its layout (topic, which sentences, in which order) from `i % layouts` and its facts (companies,
people, places, numbers, dates) from `i` itself: articles sharing a layout say different things about different
subjects. Each article carries one question with a unique answer (its venture's stake split).
"""

import random
from dataclasses import dataclass

_FIRST = ["Amara", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kofi", "Lena", "Marco", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wei", "Yusuf", "Zora", "Alvaro", "Bettina", "Ciaran", "Divya", "Elif"]
_LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Kowalski", "Haddad", "Ferreira", "Novak", "Brennan", "Castillo", "Ibrahim", "Petrov", "Schulz", "Varga", "Nakamura", "Osei", "Romano", "Dubois", "Larsen", "Mehta", "Quinn", "Sato", "Walsh", "Zeller", "Abbasi", "Horvat", "Janssen", "Kim", "Lopes", "Murphy"]
_COMPANY_A = ["Norvale", "Kestrel", "Brightwater", "Halcyon", "Orbis", "Tamsin", "Vireo", "Coldridge", "Arden", "Solenne", "Marrow", "Quillon", "Redfern", "Ostara", "Lumen", "Pellam", "Greyhaven", "Sundra", "Talvik", "Emberly"]
_COMPANY_B = ["Motors", "Energy", "Bank", "Foods", "Airlines", "Pharma", "Steel", "Telecom", "Logistics", "Retail", "Mining", "Robotics", "Shipping", "Textiles", "Insurance"]
_CITY = ["Rotterdam", "Leeds", "Lyon", "Porto", "Gdansk", "Izmir", "Pune", "Osaka", "Busan", "Durban", "Recife", "Tampere", "Bilbao", "Graz", "Aarhus", "Cork", "Tucson", "Halifax", "Perth", "Mombasa", "Surabaya", "Valencia", "Brno", "Dundee"]
_COUNTRY = ["Brazil", "Kenya", "Vietnam", "Poland", "Mexico", "Turkey", "India", "Egypt", "Chile", "Norway", "Canada", "Indonesia", "Morocco", "Spain", "Japan", "Ghana"]
_MONTH = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
_PRODUCT = ["electric van", "solar inverter", "grain silo", "cargo drone", "heat pump", "battery pack", "wind turbine blade", "water filter", "delivery robot", "budget smartphone", "hydrogen bus", "insulin pen"]

_TOPICS: dict[str, list[str]] = {
    "industry": [
        "{co} said on {weekday} it would open a new plant in {city}, its first outside its home market.",
        "The {city} site will employ {jobs:,} people when it reaches full output in {year2}.",
        "Construction is due to start in {month} and will cost about {money} {unit}.",
        "The plant will build the {product}, which {co} expects to sell mainly in {country}.",
        "{ceo}, chief executive of {co}, said the move would cut shipping times by {pct2} per cent.",
        "Local officials welcomed the investment, saying the region had lost {lost:,} factory jobs since {year0}.",
        "Unions said they wanted guarantees on pay before backing the project.",
        "{co} reported a net profit of {money2} {unit} for the last financial year, up {pct2} per cent.",
        "Analysts at {co2} said the plan was ambitious but the timing looked right.",
        "Shares in {co} rose {small} per cent in early trading after the announcement.",
        "The company also plans to reopen a research centre it closed in {year0}.",
        "Suppliers from {country} are expected to provide most of the parts at first.",
    ],
    "finance": [
        "{co} agreed on {weekday} to buy {co2} for {money} {unit} in cash and shares.",
        "The deal values {co2} at a premium of {pct2} per cent to its closing price last week.",
        "{ceo} will run the combined group, which will have about {jobs:,} staff in {n} countries.",
        "Regulators in {country} must approve the takeover, which is expected to close in {month} {year2}.",
        "The combined company will be based in {city}, where {co2} has its largest office.",
        "Investors have pushed for a merger since {year0}, when {co2} lost its biggest customer.",
        "{co} said it expected savings of {money2} {unit} a year within three years.",
        "Some shareholders said the price was too low and threatened to vote against it.",
        "The two firms had held talks twice before, most recently in {month} {year0}.",
        "Bankers at {co3} advised {co} on the transaction.",
        "Trading in {co2} shares was halted for an hour before the news.",
        "{co2} will keep its brand for at least {small} years after the deal.",
    ],
    "transport": [
        "{co} will launch direct flights from {city} to {city2} in {month}, with {n} flights a week.",
        "The airline expects to carry {jobs:,} passengers on the route in its first year.",
        "Fares will start at {price} euros one way, the company said on {weekday}.",
        "{ceo}, who heads {co}, said demand from {country} had grown faster than expected.",
        "Airport officials in {city2} said the new route would add about {lost:,} jobs.",
        "The company ordered {n} new aircraft in {year0} and the last of them arrives in {year2}.",
        "Environmental groups criticised the plan, citing rising emissions from short flights.",
        "{co} carried {money2} million passengers last year, a record for the airline.",
        "A rival carrier, {co2}, dropped the same route in {year0} after losses.",
        "Tickets go on sale on the first day of {month}.",
        "The route will use quieter planes that burn {pct2} per cent less fuel.",
        "Travel agents in {city} said bookings for the summer were already strong.",
    ],
    "health": [
        "{co} said its new {product} cut hospital visits by {pct2} per cent in a trial of {jobs:,} patients.",
        "The trial ran for {n} months at clinics in {city} and {city2}.",
        "Regulators in {country} will decide on approval by {month} {year2}.",
        "{ceo}, the company's head of research, said side effects were mild and rare.",
        "Doctors not involved in the study said the results were promising but needed confirming.",
        "The company spent {money} {unit} on the programme, its largest ever.",
        "A similar treatment from {co2} failed a trial in {year0}.",
        "Patient groups asked for the price to be kept below {price} euros a month.",
        "{co} plans to build a production line in {city} if the product is approved.",
        "About {lost:,} people in {country} live with the condition, officials say.",
        "The findings were presented at a conference on {weekday}.",
        "Insurers said they would review the data before agreeing to pay for it.",
    ],
    "energy": [
        "{co} switched on a {n}-turbine wind farm off the coast near {city} on {weekday}.",
        "The farm can power about {jobs:,} homes and cost {money} {unit} to build.",
        "{ceo}, who runs the company's renewables arm, said a second phase would follow in {year2}.",
        "The government of {country} has promised to close its last coal plant by {year3}.",
        "Fishermen in {city} complained that the turbines cut them off from traditional grounds.",
        "Power prices in the region fell {pct2} per cent last winter as more wind came online.",
        "{co2} supplied the cables and {co3} the foundations.",
        "The project was first proposed in {year0} but delayed by planning disputes.",
        "Each turbine stands {tall} metres tall, the company said.",
        "Grid operators warned that more storage would be needed on calm days.",
        "About {lost:,} people worked on the construction at its peak.",
        "The company expects to pay back the investment within {small} years.",
    ],
    "sport": [
        "{city} FC was sold to a group led by {ceo} for {money} {unit}, the club said on {weekday}.",
        "The new owners promised to build a {jobs:,}-seat stadium by {year2}.",
        "The club finished {n}th in the league last season and narrowly avoided relegation.",
        "Fans in {city} protested last year after ticket prices rose {pct2} per cent.",
        "The previous owner, {person2}, had run the club since {year0}.",
        "{ceo} made a fortune in shipping in {country} before buying the club.",
        "The manager, {person3}, will stay on for at least {small} more seasons.",
        "Average attendance fell to {lost:,} last season, the lowest in a decade.",
        "The sale still needs approval from the league, expected in {month}.",
        "The club's women's team won the national cup in {year0}.",
        "Season tickets will be frozen at {price} euros for the next campaign.",
        "Local businesses hope a bigger stadium will bring more visitors to {city}.",
    ],
}
_HEADLINES = {
    "industry": "{co} to open {product} plant in {city}",
    "finance": "{co} agrees {money} {unit} takeover of {co2}",
    "transport": "{co} adds {city}-{city2} route",
    "health": "{co} {product} trial cuts hospital visits",
    "energy": "{co} switches on wind farm near {city}",
    "sport": "{city} FC sold to {ceo}",
}
_VENTURE = "{co} and {partner} formed a joint venture in {city3}; {co} holds {stake} per cent and {partner} the remaining {rest} per cent."
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@dataclass(frozen=True)
class GeneratedArticle:
    """One generated article, the layout it shares with others, and a question it alone answers."""

    id: str
    title: str
    text: str
    published: str
    source: str
    layout: int
    question: str
    answer: str


def _company(rng: random.Random) -> str:
    return f"{rng.choice(_COMPANY_A)} {rng.choice(_COMPANY_B)}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def generate_article(index: int, layouts: int = 997) -> GeneratedArticle:
    """Article `index`: layout from `index % layouts`, facts from `index`; the same index always gives the same text."""
    layout = index % layouts
    shape = random.Random(f"layout-{layout}")
    topic = shape.choice(sorted(_TOPICS))
    templates = shape.sample(_TOPICS[topic], k=shape.randint(8, len(_TOPICS[topic])))
    venture_at = shape.randint(1, len(templates))
    fills = random.Random(f"facts-{index}")
    co, co2, co3, partner = (_company(fills) for _ in range(4))
    stake = fills.randrange(51, 91)
    year0 = fills.randint(1995, 2020)
    facts = {
        "co": co, "co2": co2, "co3": co3, "partner": partner, "ceo": _person(fills), "person2": _person(fills),
        "person3": _person(fills), "city": fills.choice(_CITY), "city2": fills.choice(_CITY), "city3": fills.choice(_CITY),
        "country": fills.choice(_COUNTRY), "month": fills.choice(_MONTH), "weekday": fills.choice(_WEEKDAYS),
        "product": fills.choice(_PRODUCT), "jobs": fills.randrange(200, 60_000, 50), "lost": fills.randrange(300, 40_000, 100),
        "money": fills.randint(2, 900), "money2": fills.randint(2, 90), "unit": fills.choice(["million euros", "billion dollars", "million pounds"]),
        "pct2": fills.randint(3, 45), "small": fills.randint(2, 9), "n": fills.randint(3, 19), "price": fills.randint(20, 400),
        "tall": fills.randint(120, 260), "year0": year0, "year2": fills.randint(2027, 2032), "year3": fills.randint(2030, 2040),
        "stake": stake, "rest": 100 - stake,
    }
    sentences = [t.format(**facts) for t in templates]
    sentences.insert(venture_at, _VENTURE.format(**facts))
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    return GeneratedArticle(
        id=f"gen-{index}",
        title=_HEADLINES[topic].format(**facts),
        text="\n\n".join(paragraphs),
        published=f"{fills.randint(2019, 2026)}-{fills.randint(1, 12):02d}-{fills.randint(1, 28):02d}",
        source=fills.choice(["Daily Ledger", "Harbour Post", "Metro Wire", "Evening Courier"]),
        layout=layout,
        question=f"What stake does {co} hold in its joint venture with {partner}?",
        answer=f"{stake}",
    )
