"""Words news stories use interchangeably ("build" / "produce", "runs" / "chief executive"): a question's word
counts partly as any word of its group. General English of news, not any corpus's vocabulary; the corpus's own
word vectors (rag.vocabulary) cover the rest, for words the articles never use."""

from functools import lru_cache

from rag.terms import index_terms

# A group's words share a meaning in news copy; a word may be in several groups. In "a b -> c d", c and d count
# for a and b only: "Who runs X?" is answered by "chief executive" or "director", but a question about the chief
# executive is not answered by "it would run a reduced timetable", nor by the operations director.
_GROUPS = """
build make produce manufacture assemble construct
cut reduce slash shed trim axe lower
buy acquire purchase takeover
sell dispose
sell -> sale market export
run lead head manage -> boss chief executive ceo director chairman chairwoman chair president leader
boss chief executive ceo
job employee worker staff workforce headcount role
rise increase grow climb jump soar gain surge
fall drop decline decrease slump slide sink shrink dive plunge tumble plummet
open launch start begin unveil introduce debut
start -> founded establish
founded establish
close shut
pay spend invest
earn -> salary wage pay income
demand -> ask seek want
spot notice detect
spot notice -> discover find see
occupy -> live inhabit
profit earnings income surplus
revenue sales turnover
company firm business carmaker automaker maker
factory plant site facility
car vehicle model
city town
country nation
price cost
fine penalty
rule regulation law
warn caution
kill die death dead
injure wound hurt
arrest detain
study research report survey trial
university college
airline carrier
headquarter headquarters base
fan supporter crowd spectator
name call dub
people person -> adult patient participant volunteer resident customer passenger employee worker staff member
old -> age aged year founded established history
age aged
fund finance sponsor bankroll
pay -> fund finance sponsor
appeal challenge contest
hire recruit employ
sack fire dismiss
quit resign leave depart
leave -> step
replace succeed
cancel scrap
delay postpone
deal agreement contract pact
talk negotiation
ban prohibit
protest demonstration rally
jail prison imprison
shop store outlet branch
customer client consumer shopper
shareholder investor
regulator watchdog
strike walkout stoppage
drug medicine medication treatment
doctor physician
hospital clinic
visitor tourist
win victory beat
lend loan borrow
plane aircraft airliner jet
ship vessel boat
lorry truck
home house dwelling
soldier troop
police officer
lose loss defeat
""".strip().splitlines()
# A related word is good evidence but weaker than the question's own word.
RELATED_CREDIT = 0.8


@lru_cache(maxsize=1)
def _stem_groups() -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for line in _GROUPS:
        asked, _, answering = line.rpartition("->") if "->" in line else ("", "", line)
        answers = {stem for word in answering.split() for stem in index_terms(word)}
        for stem in {stem for word in asked.split() for stem in index_terms(word)} if asked else answers:
            groups.setdefault(stem, set()).update(answers - {stem})
    return {stem: frozenset(related) for stem, related in groups.items()}


def related(stem: str) -> dict[str, float]:
    """Index stems that count as this one, each with its credit (none for a word in no group)."""
    return dict.fromkeys(_stem_groups().get(stem, ()), RELATED_CREDIT)
