"""Choose the extractive answerer's weights and refusal gates on the calibration split; report them on the test split.

Run: `.venv/bin/python -m eval.calibrate` (ingests seeds/ into a temporary index). Prints the best settings found.
"""

import itertools
import tempfile
from collections.abc import Sequence
from pathlib import Path

from eval.dataset import EvalQuestion, load_dataset
from eval.metrics import CitedPassage, Observation, judge
from eval.run import DEFAULT_DATASET
from rag.answer import Candidate, ExtractiveAnswerer, ScoreWeights
from rag.config import Settings
from rag.pipeline import build

ROOT = Path(__file__).resolve().parent.parent
Cached = list[tuple[EvalQuestion, list[Candidate]]]


def score(answerer: ExtractiveAnswerer, cached: Cached, split: str | None) -> tuple[float, float]:
    """(answer accuracy over answerable questions, refusal accuracy over unanswerable ones) on a split."""
    answered: list[bool] = []
    refused: list[bool] = []
    for question, candidates in cached:
        if split and question.split != split:
            continue
        answer = answerer.choose(question.question, candidates)
        cited = tuple(CitedPassage(c.document_id, c.text, c.quote) for c in answer.citations)
        verdict = judge(question, Observation(answer.answer, answer.refused, cited, (), 0.0))
        (refused if question.expects_refusal else answered).append(verdict.correct)
    return sum(answered) / max(len(answered), 1), sum(refused) / max(len(refused), 1)


def grid() -> Sequence[tuple[ScoreWeights, float, float]]:
    """The settings tried."""
    weights = [ScoreWeights(passage=p, sentence=s, coverage=c, previous=v) for p, s, c, v in itertools.product([0.0, 1.0], [1.0, 2.0], [0.05, 0.1, 0.2, 0.3], [0.0, 0.05])]
    return [(w, ms, mc) for w in weights for ms in (0.80, 0.81, 0.82) for mc in (0.2, 0.25, 0.3, 0.34)]


def main() -> None:
    questions = load_dataset(DEFAULT_DATASET)
    with tempfile.TemporaryDirectory(prefix="rag-calibrate-") as scratch:
        pipeline = build(Settings(data_dir=Path(scratch)))
        pipeline.ingest_paths([ROOT / "seeds"])
        base = pipeline.extractive
        cached = [(q, base.candidates(q.question, pipeline.retrieve(q.question))) for q in questions]
        results = []
        for weights, min_similarity, min_coverage in grid():
            answerer = base.tuned(weights, min_similarity, min_coverage)
            accuracy, refusal = score(answerer, cached, "calibration")
            results.append((accuracy + refusal, accuracy, refusal, weights, min_similarity, min_coverage, answerer))
        results.sort(key=lambda r: (-r[0], -r[2]))
        print("calibration acc/refusal  test acc/refusal  weights, min similarity, min coverage")
        for _, accuracy, refusal, weights, min_similarity, min_coverage, answerer in results[:5]:
            test = score(answerer, cached, "test")
            print(f"{accuracy:.3f}/{refusal:.3f}  {test[0]:.3f}/{test[1]:.3f}  {weights}, {min_similarity}, {min_coverage}")


if __name__ == "__main__":
    main()
