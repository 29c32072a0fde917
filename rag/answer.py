"""The extractive answerer: pick the sentence (or clause) that answers, cite its exact span, or refuse."""

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from rag.conversation import Turn, carry_context
from rag.quantity import measure_equivalents, same_figure_kind, states_measure
from rag.question import QuestionShape, asks_reason, defines, fits_kind, gives_reason, is_calendar_word, names_in, shape_of
from rag.local_index import LocalIndex
from rag.names import name_forms, spells_out
from rag.terms import content_words, fold_accents, terms
from rag.thesaurus import related
from rag.types import Answer, Citation, Passage, StreamEvent, Verification

NOT_SAID = "The articles don't say"  # opens a refusal, and each unanswered part of a compound answer
REFUSAL = f"{NOT_SAID}: none of the stored articles answers this question."
PREMISE_CORRECTION = "The articles say otherwise:"
_CORRECTION_MIN_COVERAGE = 0.5
# A why-question's event is told by a sentence covering this much of it; a denial there answers the question.
_EVENT_COVERAGE = 0.6
_NEGATION = re.compile(r"\b(not|never|no longer|declined to|refused to|ruled out|denied)\b|n['’]t\b", re.IGNORECASE)
# Questions that take their figure as given ("Why was…", "Did…"), unlike those that ask within it ("How many… in 2019?").
_PRESUPPOSES = re.compile(r"\s*(why|is|was|were|are|did|does|do|has|have|had|will|would|can|could)\b", re.IGNORECASE)

_CLAUSE_SPLIT = re.compile(r",\s+(?=(?:while|whereas|but|although|though)\b)|;\s+")
# A synonym's credit rises from 0 at the vocabulary's similarity floor to full credit this far above it.
_SYNONYM_SPAN = 0.08
# A word a text says only through a synonym credited less than this is unsaid for the answer check: at the floor, the
# 4-bit model's near words vary by CPU ("runner" ~ "club" at 0.884 on one, under 0.88 on another) and mean little.
_SAID_CREDIT = 0.5
_NUMBER = re.compile(r"(?<![\w.,])\d[\d,.]*\d(?!\w)|(?<![\w.,])\d(?!\w)")


@dataclass(frozen=True)
class ScoreWeights:
    """How much each signal counts when choosing the answering sentence (tuned on the calibration split)."""

    passage: float = 1.0
    sentence: float = 2.0
    coverage: float = 0.3
    previous: float = 0.05
    reason: float = 1.0  # for "why" questions, a sentence giving a cause or purpose comes first
    defines: float = 0.15  # "What kind of car is the N7?": "the Nissan N7, a mid-size sedan" over other N7 sentences
    event: float = 0.2  # "When was the Leaf launched?": a sentence telling of the launch, over one merely about the Leaf


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage and the signals that score it."""

    passage: Passage
    sentence: int
    text: str
    passage_similarity: float
    sentence_similarity: float
    coverage: float
    previous_coverage: float
    focus_coverage: float
    covered: frozenset[str]
    fits: bool
    about_names: bool
    has_question_numbers: bool
    states_measure: bool
    gives_asked_reason: bool = False
    defines: bool = False  # says what the thing a "what is X" question names is ("the Nissan N7, a mid-size sedan")
    tells_event: float = 0.0  # the credit of the question's predicate ("launched") in the sentence itself

    def score(self, w: ScoreWeights) -> float:
        return (
            w.passage * self.passage_similarity
            + w.sentence * self.sentence_similarity
            + w.coverage * self.coverage
            + w.previous * self.previous_coverage
            + w.reason * self.gives_asked_reason
            + w.event * self.tells_event
            + w.defines * self.defines
        )


class ExtractiveAnswerer:
    """Answers with sentences taken verbatim from the retrieved passages; refuses when none fits."""

    name = "extractive"

    def __init__(
        self,
        keywords: LocalIndex,
        synonyms: Callable[[str], dict[str, float]],
        min_similarity: float,
        min_coverage: float,
        synonym_floor: float,
        weights: ScoreWeights = ScoreWeights(),
    ) -> None:
        self._keywords = keywords
        self._synonym_floor = synonym_floor
        self._synonyms = synonyms
        self._min_similarity = min_similarity
        self._min_coverage = min_coverage
        self._weights = weights

    def tuned(self, weights: ScoreWeights, min_similarity: float, min_coverage: float) -> "ExtractiveAnswerer":
        """The same answerer with other weights and gates."""
        return ExtractiveAnswerer(self._keywords, self._synonyms, min_similarity, min_coverage, self._synonym_floor, weights)

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        """A short cited answer from the passages, or a refusal (`refused=True`, no citations)."""
        candidates = self.candidates(question, passages)
        denied = self.denied(question, candidates)
        if denied is not None:
            return denied
        answer = self.choose(question, candidates)
        return (self.corrected(question, passages) or answer) if answer.refused else answer

    def denied(self, question: str, candidates: Sequence[Candidate]) -> Answer | None:
        """For "Why did X appeal the fine?": when the sentence that best tells of that event says it did not happen
        ("…said it did not intend to do so"), that sentence, given as what the articles say instead of a reason."""
        if not asks_reason(question) or _NEGATION.search(question):
            return None
        asked = set(terms(question))
        about = [c for c in candidates if c.about_names and c.coverage >= _EVENT_COVERAGE]
        if not about:
            return None
        best = max(c.coverage for c in about)
        closest = [c for c in about if c.coverage == best]
        negated = [c for c in closest if any(not asked & set(terms(m.group())) for m in _NEGATION.finditer(c.text))]
        if len(negated) != len(closest):  # another sentence as close tells of it plainly
            return None
        chosen = max(negated, key=lambda c: c.score(self._weights))
        citation = cite(1, chosen.passage, chosen.sentence, chosen.sentence_similarity)
        verbatim = Verification(sentences=1, supported=1, repaired=0, fallback=False)
        return Answer(f"{PREMISE_CORRECTION} {chosen.text} [1]", False, (citation,), verification=verbatim)

    def corrected(self, question: str, passages: Sequence[Passage]) -> Answer | None:
        """For a question that takes as given a figure the passages do not hold ("Why was the Leaf launched in 2015?"): the
        sentence that answers it without that figure, if it states a figure of its own, given as what the articles
        say instead. Every other gate still applies, so an unanswerable question stays refused."""
        if not _NUMBER.search(question) or not _PRESUPPOSES.match(question):
            return None  # "How many ships in 2019?" asks about 2019: another year's figure is no answer
        without = " ".join(_NUMBER.sub(" ", question).split())
        # Stricter than a plain answer: the sentence must be about at least half of what else the question asks
        # (measured on the seeds: 0.3 let "annual revenue in 2024?" take a sentence about an award year).
        # The correction states the figure the premise got wrong, not a reason ("Why did it close 50 shops?": 38).
        weights = replace(self._weights, reason=0.0)
        strict = self.tuned(weights, self._min_similarity, max(self._min_coverage, _CORRECTION_MIN_COVERAGE))
        alternative = strict.choose(without, strict.candidates(without, passages))
        if alternative.refused or not all(_numbers_in(c.quote) and same_figure_kind(question, c.quote) for c in alternative.citations):
            return None
        return replace(alternative, answer=f"{PREMISE_CORRECTION} {alternative.answer}")

    def standalone(self, turns: Sequence[Turn]) -> str:
        """The conversation's last question with the earlier questions' names and subject carried in."""
        return carry_context(turns)

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[StreamEvent]:
        """The passages, the answer's text in one piece, then the answer."""
        answer = self.answer(question, passages)
        yield StreamEvent("passages", passages=tuple(passages))
        yield StreamEvent("delta", text=answer.answer)
        yield StreamEvent("final", answer=answer)

    def choose(self, question: str, candidates: Sequence[Candidate]) -> Answer:
        """The answer made of the best acceptable candidates, or a refusal."""
        shape = shape_of(question)
        weights = self.term_weights(question)
        candidates = [c for c in candidates if self.acceptable(c)]
        if not candidates:
            return Answer(REFUSAL, True, (), verification=Verification(0, 0, 0, False))
        best = max(candidates, key=lambda c: c.score(self._weights))
        chosen = [best] + self._complement(best, candidates, weights)
        parts: list[str] = []
        citations: list[Citation] = []
        for n, candidate in enumerate(chosen, start=1):
            parts.append(f"{_shorten(candidate.text, shape)} [{n}]")
            citations.append(cite(n, candidate.passage, candidate.sentence, candidate.sentence_similarity))
        verbatim = Verification(sentences=len(parts), supported=len(parts), repaired=0, fallback=False)
        return Answer(" ".join(parts), False, tuple(citations), verification=verbatim)

    def alternatives(self, question: str, passages: Sequence[Passage], cited: Sequence[Citation], count: int) -> list[Answer]:
        """Up to `count` answers from the next-best acceptable sentences, each citing none already cited: what a
        checker reads when it finds that the best sentence does not state the answer."""
        return self._next_answers(question, self.candidates(question, passages), cited, count)

    def near_misses(self, question: str, passages: Sequence[Passage], count: int) -> list[Answer]:
        """Up to `count` answers from the best sentences that pass every gate but wording (the share of the question's
        words they say, and the asked measure named beside their figure): what a checker reads when this answerer
        refuses a question the passages may answer in other words ("Which bank is taking over Helvetia Bank?" against
        "Alpenbank agreed on Sunday to buy troubled rival Helvetia Bank"; "How many runs did Head score?" against
        "Head scored 137")."""
        candidates = [replace(c, states_measure=True) for c in self.candidates(question, passages)]
        return self.tuned(self._weights, self._min_similarity, 0.0)._next_answers(question, candidates, (), count)

    def _next_answers(self, question: str, candidates: Sequence[Candidate], cited: Sequence[Citation], count: int) -> list[Answer]:
        """The best answers from the candidates in turn (up to `count`), each citing none cited before."""
        used = {(c.chunk_id, c.start) for c in cited}
        found: list[Answer] = []
        while len(found) < count:
            rest = [c for c in candidates if (c.passage.chunk.id, c.passage.chunk.sentences[c.sentence][0]) not in used]
            answer = self.choose(question, rest)
            if answer.refused:
                break
            found.append(answer)
            used |= {(c.chunk_id, c.start) for c in answer.citations}
        return found

    def off_topic(self, question: str, passages: Sequence[Passage]) -> bool:
        """The hard gates: the question names what no article mentions, or no passage is close in meaning."""
        shape = shape_of(question)
        if any(not self._knows_name(name, shape) for name in shape.names):
            return True
        best = max((max((p.dense_score, *p.sentence_scores)) for p in passages), default=0.0)
        return best < self._min_similarity

    def acceptable(self, candidate: Candidate) -> bool:
        """The refusal gates: close in meaning, about the question's names and numbers, of the right kind."""
        similarity = max(candidate.sentence_similarity, candidate.passage_similarity)
        if similarity < self._min_similarity or not candidate.fits:
            return False
        if not candidate.about_names or not candidate.has_question_numbers or not candidate.states_measure:
            return False
        return candidate.focus_coverage >= self._min_coverage

    def addresses(self, question: str, claim: str, evidence: str) -> bool:
        """Whether a model's sentence answers the question, by the gates the extractive candidates pass: the claim
        itself states the asked kind of fact; with its evidence it is about the question's names and numbers and
        covers enough of the question's other words (or their synonyms)."""
        shape = shape_of(question)
        text = f"{claim} {evidence}"
        lowered = text.lower().replace("’", "'")
        if not fits_kind(_without_numbers(claim, _numbers_in(question)), shape.kind, shape.names) or not _about_names(shape, lowered, self._name_forms(shape)):
            return False
        if not _numbers_in(question) <= _numbers_in(lowered):
            return False
        weights = self.term_weights(question)
        focus = _focus(weights, shape)
        if not states_measure(shape, text, focus.keys()):
            return False
        if not focus:
            return True
        credit = _credit(self._equivalents(question, weights, shape), set(terms(text)))
        return _share(focus, credit) >= self._min_coverage

    def doubt(self, question: str, text: str) -> float:
        """How far the text leaves the question unsaid: the rarity of the rarest word the question asks about (not
        its names or numbers) that the text says in no words (itself, a news synonym or a near word), as a share of
        the rarity of a word no article uses; 0 when it says them all. "How much prize money did the Wimbledon
        runner-up receive?" against a passage about the champions' £2 million: "runner-up", rare, unsaid."""
        shape = shape_of(question)
        weights = self.term_weights(question)
        focus = _focus(weights, shape)
        said = set(terms(text))
        credit = _credit(self._equivalents(question, weights, shape), said)
        unsaid = [weight for term, weight in focus.items() if credit.get(term, 0.0) < _SAID_CREDIT and not _word_family(term, said)]
        return max(unsaid, default=0.0) / (self._keywords.unseen_idf() or 1.0)

    def term_weights(self, question: str) -> dict[str, float]:
        """Each question term's weight: its rarity in the corpus; words the articles never use weigh most."""
        unseen = self._keywords.unseen_idf()
        return {t: self._keywords.idf(t) if self._keywords.knows(t) else unseen for t in terms(question)}

    def _equivalents(self, question: str, weights: dict[str, float], shape: QuestionShape) -> dict[str, dict[str, float]]:
        """Each question term and the corpus stems that count as it, with how much (synonyms count partly)."""
        surface = content_words(question)
        found: dict[str, dict[str, float]] = {}
        for term in weights:
            found[term] = {**related(term), term: 1.0}
            if not self._keywords.knows(term) and term in surface:
                for stem, similarity in self._synonyms(surface[term]).items():
                    credit = min(1.0, (similarity - self._synonym_floor) / _SYNONYM_SPAN)
                    found[term][stem] = max(credit, found[term].get(stem, 0.0))
        for term in terms(shape.measure) if shape.measure else ():
            found.get(term, {}).update(measure_equivalents(shape.measure))
        return found

    def candidates(self, question: str, passages: Sequence[Passage]) -> list[Candidate]:
        """Every sentence of every passage, with its signals (none when the question names what no article mentions)."""
        shape = shape_of(question)
        if any(not self._knows_name(name, shape) for name in shape.names):
            return []
        weights = self.term_weights(question)
        equivalents = self._equivalents(question, weights, shape)
        by_stem = _by_stem(equivalents)
        total = sum(weights.values()) or 1.0
        focus = _focus(weights, shape)
        numbers = _numbers_in(question)
        why = asks_reason(question)
        found: list[Candidate] = []
        # A later passage says "the company's operations director" where the article's lead named the company: a name
        # counts as present in any retrieved passage of the article that names it in another.
        article_text: dict[str, str] = {}
        for passage in passages:
            article_text[passage.document.id] = f"{article_text.get(passage.document.id, _heading(passage))}\n{passage.chunk.text}"
        lowered = {doc: text.lower().replace("’", "'") for doc, text in article_text.items()}
        forms = self._name_forms(shape)
        about = {doc: _about_names(shape, text, forms) for doc, text in lowered.items()}
        written_names = {doc: frozenset(names_in(text)) for doc, text in article_text.items()}
        # "Who scored in the Euro 2024 final?": an article published in 2024 need not write its own year.
        years = {p.document.id: {str(p.document.published.year)} if p.document.published else set() for p in passages}
        with_numbers = {doc: not numbers or numbers <= _numbers_in(text) | years[doc] for doc, text in lowered.items()}
        for passage in passages:
            chunk = passage.chunk
            about_names = about[passage.document.id]
            has_numbers = with_numbers[passage.document.id]
            passage_similarity = passage.dense_score or max(passage.sentence_scores, default=0.0)
            texts = chunk.sentence_texts()
            sentence_terms = [set(terms(text)) for text in texts]
            credits = [_credit_by_stem(by_stem, own_terms) for own_terms in sentence_terms]
            for index, text in enumerate(texts):
                own = credits[index]
                near = dict(own)
                for neighbour in (index - 1, index + 1):
                    if 0 <= neighbour < len(credits):
                        for term, credit in credits[neighbour].items():
                            near[term] = max(near.get(term, 0.0), credit)
                covered = frozenset(t for t, c in own.items() if c > 0)
                previous = frozenset(credits[index - 1]) if index else frozenset()
                focus_coverage = _share(focus, near) if focus else 1.0
                focus_own = _share(focus, own)
                found.append(
                    Candidate(
                        passage=passage,
                        sentence=index,
                        text=text,
                        passage_similarity=passage_similarity,
                        sentence_similarity=passage.sentence_scores[index] if passage.sentence_scores else passage_similarity,
                        coverage=focus_own,
                        previous_coverage=sum(weights[t] for t in previous - covered) / total,
                        focus_coverage=focus_coverage,
                        covered=covered,
                        fits=fits_kind(_without_numbers(text, numbers), shape.kind, shape.names, written_names[passage.document.id]),
                        about_names=about_names,
                        has_question_numbers=has_numbers,
                        states_measure=states_measure(shape, text, focus.keys()),
                        gives_asked_reason=why and gives_reason(text),
                        tells_event=own.get(shape.predicate, 0.0) if shape.predicate else 0.0,
                        defines=bool(shape.defined) and defines(shape.defined, text),
                    )
                )
        return found

    def _knows_name(self, name: str, shape: QuestionShape) -> bool:
        """Whether some article uses the name, in any of its forms ("Japanese" or "Japan"); an acronym may be spelled
        out instead, which the passages' names gate reads."""
        if name in shape.acronyms or is_calendar_word(name):  # a month may be only the article's date
            return True
        return any(self._knows_words(form) for form in name_forms(name, self._knows_words))

    def _name_forms(self, shape: QuestionShape) -> dict[str, tuple[str, ...]]:
        """Each name of the question and the ways the articles may write it."""
        return {name: name_forms(name, self._knows_words) for name in shape.names}

    def _knows_words(self, text: str) -> bool:
        """Whether the articles use every word of the text."""
        return all(self._keywords.knows(stem) for stem in terms(text))

    def _complement(self, best: Candidate, candidates: list[Candidate], weights: dict[str, float]) -> list[Candidate]:
        """A second sentence, from another article, when it covers question terms the first one misses."""
        total = sum(weights.values()) or 1.0
        extra = [
            c
            for c in candidates
            if c.passage.document.id != best.passage.document.id
            and c.sentence_similarity >= best.sentence_similarity - 0.02
            and sum(weights[t] for t in c.covered - best.covered) / total >= 0.2
        ]
        return [max(extra, key=lambda c: c.score(self._weights))] if extra else []


def _heading(passage: Passage) -> str:
    """What an article says before its text: its title and its month ("Who won Taiwan's election in January 2024?" of
    a story dated 2024-01-13 whose dateline says "Jan 13"); not its day, which is no figure the story states."""
    published = passage.document.published
    return f"{passage.document.title}\n{published:%B %Y}" if published else passage.document.title


def _credit(equivalents: dict[str, dict[str, float]], sentence_terms: set[str]) -> dict[str, float]:
    """How much each question term is present in a sentence: 1 for itself, partly for a synonym."""
    return _credit_by_stem(_by_stem(equivalents), sentence_terms)


def _by_stem(equivalents: dict[str, dict[str, float]]) -> dict[str, list[tuple[str, float]]]:
    """Each stem that counts for a question term -> (term, credit) pairs: a sentence's own terms are then looked up
    one by one (every sentence of every passage is credited against the same question)."""
    inverted: dict[str, list[tuple[str, float]]] = {}
    for term, stems in equivalents.items():
        for stem, credit in stems.items():
            inverted.setdefault(stem, []).append((term, credit))
    return inverted


def _credit_by_stem(by_stem: dict[str, list[tuple[str, float]]], sentence_terms: set[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for stem in sentence_terms:
        for term, credit in by_stem.get(stem, ()):
            if credit > found.get(term, 0.0):
                found[term] = credit
    return found


def _word_family(term: str, said: set[str]) -> bool:
    """Whether the text says a longer form of the question's word ("crypto" in "cryptocurrency", "large" in "largest"),
    the question's stem of at least four letters; never the reverse, which drops what the question asked ("largest")."""
    return len(term) >= 4 and any(other.startswith(term) for other in said)


def _about_names(shape: QuestionShape, lowered: str, forms: dict[str, tuple[str, ...]]) -> bool:
    """One or two names must all be in the text, written with or without accents ("Andujar" / "Andújar"), a nationality
    by its place ("Japanese" / "Japan's"), an acronym spelled out (`forms`: how the articles may write each name); of
    a longer list (a multi-article question), half."""
    plain = fold_accents(lowered)
    names = shape.names
    present = sum(1 for name in names if _written(name, forms[name], plain, name in shape.acronyms))
    return present == len(names) if len(names) <= 2 else present * 2 >= len(names)


def _written(name: str, forms: tuple[str, ...], plain: str, acronym: bool) -> bool:
    """Whether the accent-folded text writes the name in one of its forms, or spells out the acronym."""
    return any(fold_accents(form) in plain for form in forms) or (acronym and spells_out(fold_accents(name), plain))


def _numbers_in(text: str) -> set[str]:
    return {_plain_number(n) for n in _NUMBER.findall(text)}


def _focus(weights: dict[str, float], shape: QuestionShape) -> dict[str, float]:
    """The question's weighted terms other than its names, numbers and the noun of "What kind of car…" (answered by
    "a mid-size sedan"): what the answer must be about."""
    left_out = {t for name in shape.names for t in terms(name)} | set(shape.kind_of)
    return {t: w for t, w in weights.items() if t not in left_out and not t[0].isdigit()}


def _share(focus: dict[str, float], credit: dict[str, float]) -> float:
    """The weighted share of the focus terms a text covers, each counted by its credit (0 for no focus terms)."""
    total = sum(focus.values())
    return sum(focus[t] * c for t, c in credit.items() if t in focus) / total if total else 0.0


def _without_numbers(text: str, numbers: set[str]) -> str:
    """The text without the question's own numbers ("Orvo 9"): they are not the figure it asks for."""
    return _NUMBER.sub(lambda m: " " if _plain_number(m.group()) in numbers else m.group(), text) if numbers else text


def _plain_number(text: str) -> str:
    return text.replace(",", "").rstrip(".")


def _shorten(sentence: str, shape: QuestionShape) -> str:
    """The clause of a long sentence that holds the question's names and fact, else the whole sentence."""
    clauses = _CLAUSE_SPLIT.split(sentence)
    if len(clauses) < 2 or len(sentence.split()) < 25:
        return sentence
    scored = []
    for clause in clauses:
        has_names = all(name in clause.lower() for name in shape.names) if shape.names else False
        if has_names and fits_kind(clause, shape.kind, shape.names) and len(clause.split()) >= 5:
            scored.append(clause)
    if len(scored) != 1:
        return sentence
    clause = re.sub(r"^(while|whereas|but|although|though)\s+", "", scored[0].strip(), flags=re.I)
    clause = clause[0].upper() + clause[1:]
    return clause if clause.endswith((".", "!", "?", "”", '"')) else clause + "."


def cite(n: int, passage: Passage, sentence: int, score: float) -> Citation:
    """Citation number n: the passage and the exact span (article offsets) of one of its sentences."""
    start, end = passage.chunk.sentences[sentence]
    chunk = passage.chunk
    return Citation(
        n=n,
        document_id=passage.document.id,
        chunk_id=chunk.id,
        title=passage.document.title,
        url=passage.document.url,
        published=passage.document.published,
        source=passage.document.source,
        text=chunk.text.strip(),
        start=start,
        end=end,
        quote=chunk.sentence(sentence),
        score=round(score, 4),
    )
