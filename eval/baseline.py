"""Compare a run with an earlier one (its `--json` file): what got worse."""

import json
from pathlib import Path

from eval.metrics import Verdict
from rag.errors import InvalidInput

_HIGHER_IS_BETTER = (
    "answer_accuracy", "refusal_accuracy", "false_premise_handling", "citation_support", "citation_precision", "hit_at_1", "hit_at_k",
)


def _percent(value: float, other: float) -> str:
    """One decimal, or two when one would print both figures alike."""
    return f"{value:.1%}" if f"{value:.1%}" != f"{other:.1%}" else f"{value:.2%}"


def load_baseline(path: Path) -> dict[str, object]:
    """An earlier `rag eval --json` file; InvalidInput when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the baseline {path}: {exc}") from exc
    if not isinstance(data, dict) or "summary" not in data or "questions" not in data:
        raise InvalidInput(f"{path} is not a `rag eval --json` file (no summary and questions)")
    return data


def regressions(summary: dict[str, object], verdicts: list[Verdict], baseline: dict[str, object]) -> list[str]:
    """Overall figures that fell (or unsupported claims that rose), then questions right before and wrong now."""
    found = []
    now, before = summary["overall"], baseline["summary"]["overall"]  # type: ignore[index]
    assert isinstance(now, dict) and isinstance(before, dict)
    for key in _HIGHER_IS_BETTER:
        new, old = (now.get(key) or {}).get("value"), (before.get(key) or {}).get("value")
        if new is not None and old is not None and new < old:
            found.append(f"{key} fell from {_percent(old, new)} to {_percent(new, old)}")
    if now.get("false_refusals", {}).get("value") is not None and before.get("false_refusals", {}).get("value") is not None:
        if now["false_refusals"]["value"] > before["false_refusals"]["value"]:
            found.append(f"false_refusals rose from {before['false_refusals']['value']:.1%} to {now['false_refusals']['value']:.1%}")
    if int(now.get("unsupported_claims", 0)) > int(before.get("unsupported_claims", 0)):
        found.append(f"unsupported_claims rose from {before['unsupported_claims']} to {now['unsupported_claims']}")
    earlier = {q["id"]: q for q in baseline["questions"] if isinstance(q, dict)}  # type: ignore[union-attr]
    for verdict in verdicts:
        old_row = earlier.get(verdict.id)
        if old_row and old_row.get("correct") and not verdict.correct:
            found.append(f"{verdict.id}: right before, wrong now ({verdict.question})")
    return found
