from pathlib import Path

import pytest

from eval.dataset import EvalQuestion, load_dataset
from eval.match import contains, normalize
from eval.metrics import CitedPassage, Observation, evidence_rank, judge, percentile, rate, summarize, unsupported_claims
from eval.run import DEFAULT_DATASET, PipelineTarget, failed_thresholds, load_thresholds, run
from rag.errors import InvalidInput, UpstreamError
from rag.pipeline import Pipeline

Q_ANSWER = EvalQuestion("a", "What stake will NCIC hold?", ("60 per cent",), "answerable", must_not=("40",), evidence=("remaining 60 per cent",))
Q_REFUSE = EvalQuestion("u", "Capital of France?", (), "unanswerable")


def _seen(answer: str, refused: bool = False, cited: str = "", retrieved: tuple[str, ...] = ()) -> Observation:
    citations = (CitedPassage("d", cited, cited),) if cited else ()
    return Observation(answer, refused, citations, retrieved, 10.0)


def test_matching_normalizes_percent_separators_and_number_words() -> None:
    assert normalize("60 Per Cent, 20,000 staff") == "60 percent 20000 staff"
    assert contains("The remaining 60%.", "60 per cent")
    assert contains("cut twenty jobs", "20 jobs")
    assert not contains("160 per cent", "60 per cent")
    assert contains("£450m", "450 million")


def test_judge_alias_must_not_and_refusal() -> None:
    assert judge(Q_ANSWER, _seen("NCIC holds 60 per cent [1]", cited="the remaining 60 per cent")).correct
    assert not judge(Q_ANSWER, _seen("NCIC 40 per cent, Dongfeng 60 per cent")).correct
    assert not judge(Q_ANSWER, _seen("The articles don't say.", refused=True)).correct
    assert judge(Q_REFUSE, _seen("The articles don't say.", refused=True)).correct
    assert not judge(Q_REFUSE, _seen("Paris")).correct


def test_unsupported_claims_are_numbers_and_names_missing_from_citations() -> None:
    assert unsupported_claims("NCIC holds 60 per cent [1]", ["NCIC will invest for the remaining 60 per cent"]) == []
    assert unsupported_claims("Toyota holds 45 per cent [1]", ["NCIC will invest for the remaining 60 per cent"]) == ["45", "Toyota"]
    # A sentence's first word is capitalized without being a name; a real name in that place still counts.
    assert unsupported_claims("According to NCIC, it holds 60 per cent [1]", ["NCIC: the remaining 60 per cent"]) == []
    # a hyphenated name is cited when each of its parts is: "China-made" of "EVs made in China", not of "made in Japan"
    assert unsupported_claims("XHBY reported on China-made EVs [1]", ["XHBY reported that Nissan views EVs made in China"]) == []
    assert unsupported_claims("XHBY reported on China-made EVs [1]", ["XHBY reported that Nissan views EVs made in Japan"]) == ["China-made"]
    assert unsupported_claims("Toyota, according to NCIC, holds 60 per cent [1]", ["NCIC: 60 per cent"]) == ["Toyota"]
    # a name's possessive is the name
    assert unsupported_claims("The N7's software must change [1]", ["The N7 features software."]) == []
    unanswered_part = "Gallagher heads enforcement [1]. The articles don't say who chairs Harlow Town."
    assert unsupported_claims(unanswered_part, ["Niamh Gallagher, the head of enforcement"]) == []
    assert unsupported_claims(unanswered_part + " Harlow Town won 3-2 [1]", ["Niamh Gallagher"]) == ["2", "3", "Harlow", "Town"]
    assert unsupported_claims("Toyota's software must change [1]", ["The N7 features software."]) == ["Toyota"]


def test_retrieval_rank() -> None:
    assert evidence_rank(["remaining 60 per cent"], ["nothing", "for the remaining 60 per cent."]) == 2
    assert evidence_rank(["remaining 60 per cent"], ["nothing"]) == 0
    assert evidence_rank([], ["x"]) is None


def test_rates_and_percentiles_against_hand_computed_values() -> None:
    r = rate([True, True, True, False])
    assert r["value"] == 0.75 and r["n"] == 4
    assert r["low"] is not None and r["high"] is not None and 0.0 <= r["low"] <= 0.75 <= r["high"] <= 1.0
    assert rate([]) == {"value": None, "low": None, "high": None, "n": 0}
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0


def test_summary_counts_each_rate_from_its_own_questions() -> None:
    verdicts = [
        judge(Q_ANSWER, _seen("remaining 60 per cent [1]", cited="the remaining 60 per cent", retrieved=("x", "the remaining 60 per cent"))),
        judge(Q_ANSWER, _seen("The articles don't say.", refused=True, retrieved=("the remaining 60 per cent",))),
        judge(Q_REFUSE, _seen("The articles don't say.", refused=True)),
        judge(Q_REFUSE, _seen("Paris [1]", cited="Paris is nice")),
    ]
    overall = summarize(verdicts)["overall"]
    assert isinstance(overall, dict)
    assert overall["answer_accuracy"]["value"] == 0.5
    assert overall["refusal_accuracy"]["value"] == 0.5
    assert overall["false_refusals"]["value"] == 0.5
    assert overall["citation_support"]["value"] == 1.0
    assert overall["hit_at_1"]["value"] == 0.5 and overall["mrr"] == 0.75


def test_a_short_answer_counts_when_its_answer_is_right_and_it_names_an_alias_and_no_forbidden_one() -> None:
    right = "NCIC will invest for the remaining 60 per cent [1]"
    verdicts = [
        judge(Q_ANSWER, Observation(right, False, (), (), 1.0, short="60 per cent")),
        judge(Q_ANSWER, Observation(right, False, (), (), 1.0, short="40 per cent")),  # right sentence, wrong words of it
        judge(Q_ANSWER, Observation(right, False, (), (), 1.0, short="60 per cent, 40 per cent")),
        judge(Q_ANSWER, Observation(right, False, (), (), 1.0)),  # none given
        judge(Q_ANSWER, Observation("Dongfeng will hold 40 per cent [1]", False, (), (), 1.0, short="60")),  # a wrong answer
    ]
    assert [v.short_correct for v in verdicts] == [True, False, False, False, False]
    short = summarize(verdicts)["overall"]["short_answers"]  # type: ignore[index]
    assert short["value"] == 0.25 and short["n"] == 4  # of the right answers only
    assert summarize(verdicts[3:4])["overall"]["short_answers"]["value"] is None  # type: ignore[index]  # an answerer giving none


class AlwaysRefuses:
    """A negative control: a target that never answers."""

    def observe(self, question: str) -> Observation:
        return Observation("The articles don't say.", True, (), (), 1.0)


def test_always_refusing_scores_zero_accuracy_full_refusal_and_fails_the_gate() -> None:
    questions = load_dataset(DEFAULT_DATASET)
    summary = summarize(run(questions, AlwaysRefuses()))
    overall = summary["overall"]
    assert isinstance(overall, dict)
    assert overall["answer_accuracy"]["value"] == 0.0
    assert overall["refusal_accuracy"]["value"] == 1.0
    assert f"answer_accuracy 0.000 < {load_thresholds()['answer_accuracy']:.3f}" in failed_thresholds(summary, load_thresholds())


def test_seeds_dataset_is_large_varied_and_split() -> None:
    questions = load_dataset(DEFAULT_DATASET)
    assert len(questions) >= 60
    types = {q.type for q in questions}
    assert types == {"answerable", "unanswerable", "false_premise", "multi_doc"}
    assert sum(q.type == "unanswerable" for q in questions) >= 8
    assert {q.split for q in questions} == {"calibration", "test"}
    assert any(q.id == "ncic-stake" and "60 per cent" in q.answers for q in questions)


def test_bad_dataset_lines_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "q", "type": "answerable", "answers": []}\n')
    with pytest.raises(InvalidInput, match="bad.jsonl:1"):
        load_dataset(bad)


def test_the_real_pipeline_meets_the_thresholds_on_the_seeds(seeded: Pipeline) -> None:
    summary = summarize(run(load_dataset(DEFAULT_DATASET), PipelineTarget(seeded)))
    assert failed_thresholds(summary, load_thresholds()) == []


def _verdicts(*answers: tuple[str, bool]) -> list:  # type: ignore[type-arg]
    questions = [Q_ANSWER, Q_REFUSE]
    return [judge(q, _seen(a, refused=r, cited="the remaining 60 per cent" if not r else "")) for q, (a, r) in zip(questions, answers, strict=True)]


def test_the_html_report_is_self_contained_and_escapes_everything() -> None:
    from eval.html import render_html

    verdicts = _verdicts(("NCIC holds 60 per cent <script>alert(1)</script> [1]", False), ("The articles don't say.", True))
    page = render_html("seeds <b>run</b>", summarize(verdicts), verdicts, ["answer_accuracy 0.5 < 0.75"], ["a: right before, wrong now"])
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "seeds &lt;b&gt;run&lt;/b&gt;" in page
    assert "<link" not in page and "src=" not in page and "<script" not in page  # nothing loaded, nothing run
    assert page.count("<tr><td>a</td>") == 1 and page.count("<tr><td>u</td>") == 1
    assert "<svg" in page and "answer_accuracy 0.5 &lt; 0.75" in page and "right before, wrong now" in page


def test_a_baseline_comparison_lists_what_got_worse(tmp_path: Path) -> None:
    import json

    from eval.baseline import load_baseline, regressions

    good = _verdicts(("NCIC holds 60 per cent [1]", False), ("The articles don't say.", True))
    bad = _verdicts(("NCIC holds 40 per cent [1]", False), ("The articles don't say.", True))
    path = tmp_path / "before.json"
    path.write_text(json.dumps({"summary": summarize(good), "questions": [v.as_dict() for v in good]}))
    assert regressions(summarize(good), good, load_baseline(path)) == []
    assert regressions(summarize(bad), bad, load_baseline(path)) == [
        "answer_accuracy fell from 100.0% to 0.0%",
        "unsupported_claims rose from 1 to 2",  # "NCIC" was already missing from the cited text; now "40" too
        "a: right before, wrong now (What stake will NCIC hold?)",
    ]
    (tmp_path / "junk.json").write_text("[]")
    with pytest.raises(InvalidInput, match="not a `rag eval --json` file"):
        load_baseline(tmp_path / "junk.json")


def test_retrieval_that_finds_only_the_wrong_article_falls_below_the_thresholds(pipeline: Pipeline) -> None:
    # Negative control: the Nissan-exports article is missing, so every question about it retrieves the other one.
    from tests.conftest import SEEDS

    results, _ = pipeline.ingest_paths([SEEDS / "003_b7780bec02b9b9fc.txt"])
    assert len(results) == 1
    summary = summarize(run(load_dataset(DEFAULT_DATASET), PipelineTarget(pipeline)))
    overall = summary["overall"]
    assert isinstance(overall, dict) and overall["answer_accuracy"]["value"] < 0.5
    assert any(f.startswith("answer_accuracy") for f in failed_thresholds(summary, load_thresholds()))


def test_the_ci_gate_fails_when_the_answerer_is_deliberately_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from rag.cli import app
    from tests.conftest import SEEDS

    monkeypatch.setenv("RAG_ANSWERER", "extractive")
    monkeypatch.setenv("RAG_REFUSAL_MIN_DENSE", "0.99")  # broken on purpose: nearly everything is refused
    result = CliRunner().invoke(app, ["eval", "--corpus", str(SEEDS), "--json", str(tmp_path / "run.json")])
    assert result.exit_code == 1 and "below thresholds" in result.output and "answer_accuracy" in result.output


def test_the_llm_judge_grades_answers_and_reports_its_agreement_with_the_matcher() -> None:
    import json

    import httpx
    import openai
    import respx

    from eval.judge import OpenAIJudge, judge_all

    worded = EvalQuestion("w", "What stake will Dongfeng hold?", ("40 per cent",), "answerable")
    questions = [Q_ANSWER, worded, Q_REFUSE]
    verdicts = [
        judge(Q_ANSWER, _seen("NCIC holds 60 per cent [1]", cited="the remaining 60 per cent")),  # matcher: right
        judge(worded, _seen("Dongfeng holds two-fifths of the venture [1]", cited="two-fifths")),  # matcher: miss
        judge(Q_REFUSE, _seen("The articles don't say.", refused=True)),  # not graded: unanswerable
    ]
    with respx.mock:
        route = respx.post("http://judge.test/v1/chat/completions").mock(side_effect=[
            httpx.Response(200, json={"choices": [{"index": 0, "message": {"role": "assistant", "content": "YES"}}]}),
            httpx.Response(200, json={"choices": [{"index": 0, "message": {"role": "assistant", "content": "Yes."}}]}),
        ])
        client = openai.OpenAI(base_url="http://judge.test/v1", api_key="k", max_retries=0)
        report = judge_all(OpenAIJudge(client, "judge-model"), questions, verdicts)
    assert (report.judged, report.judge_accuracy, report.agreement) == (2, 1.0, 0.5)
    assert report.disagreements == ("w: matcher miss, judge right",)
    sent = json.loads(route.calls[1].request.content)["messages"][1]["content"]
    assert "Accepted answers: 40 per cent" in sent and "two-fifths" in sent


class FailsOn:
    """A target whose answers fail (as a timed-out model does) for the given questions."""

    def __init__(self, failing: set[str]) -> None:
        self._failing = failing

    def observe(self, question: str) -> Observation:
        if question in self._failing:
            raise UpstreamError("the model did not answer within 30 s")
        return _seen("60 per cent", cited="the remaining 60 per cent")


def test_a_question_without_an_answer_is_scored_wrong_and_the_run_goes_on() -> None:
    verdicts = run([Q_ANSWER, Q_REFUSE, Q_ANSWER], FailsOn({Q_REFUSE.question}))
    assert [v.correct for v in verdicts] == [True, False, True]
    assert verdicts[1].notes == ["no answer: the model did not answer within 30 s"]


def test_a_run_whose_answers_keep_failing_stops_with_the_reason() -> None:
    with pytest.raises(UpstreamError, match="3 questions in a row got no answer.*30 s"):
        run([Q_ANSWER] * 5, FailsOn({Q_ANSWER.question}))


def test_a_run_may_raise_a_pass_mark_and_a_bad_one_is_named(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rag.cli import app
    from tests.conftest import SEEDS

    raised = CliRunner().invoke(app, ["eval", "--corpus", str(SEEDS), "--min", "answer_accuracy=0.999"])
    assert raised.exit_code == 1 and "answer_accuracy" in raised.output and "< 0.999" in raised.output
    unknown = CliRunner().invoke(app, ["eval", "--corpus", str(SEEDS), "--min", "accuracy=0.9"])
    assert unknown.exit_code == 2 and "answer_accuracy" in unknown.output and "Traceback" not in unknown.output


def test_a_lead_in_opens_each_question_with_its_own_date(tmp_path: Path) -> None:
    from eval.dataset import with_lead_in

    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "Who won?", "answers": ["X"], "date": "2022-06-16"}\n'
        '{"id": "b", "question": "Who lost?", "answers": ["Y"]}\n'
    )
    led = with_lead_in(load_dataset(path), "Today is {date}.")
    assert [q.question for q in led] == ["Today is June 16, 2022. Who won?", "Today is today. Who lost?"]
    assert [q.answers for q in led] == [("X",), ("Y",)]
