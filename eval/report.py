"""The evaluation's terminal table."""

from rich.console import Console
from rich.table import Table

from eval.metrics import Verdict

RATE_ROWS = (
    ("answer_accuracy", "answer accuracy"),
    ("refusal_accuracy", "refusal accuracy"),
    ("false_refusals", "false refusals"),
    ("false_premise_handling", "false premise handled"),
    ("citation_support", "citation support"),
    ("short_answers", "short answer right"),
    ("citation_precision", "citation precision"),
    ("hit_at_1", "retrieval hit@1"),
    ("hit_at_k", "retrieval hit@k"),
)


def _cell(value: object) -> str:
    if isinstance(value, dict):
        if value.get("value") is None:
            return "—"
        return f"{value['value']:.1%} [{value['low']:.0%}–{value['high']:.0%}] n={value['n']}"
    return "—" if value is None else str(value)


def print_report(summary: dict[str, object], verdicts: list[Verdict], failures: list[str], console: Console) -> None:
    """Overall figures with 95% intervals, the same per question type, the misses, and the verdict."""
    overall = summary["overall"]
    by_type = summary["by_type"]
    assert isinstance(overall, dict) and isinstance(by_type, dict)
    table = Table(title=f"Evaluation: {summary['questions']} questions", show_lines=False)
    table.add_column("metric")
    table.add_column("overall")
    for qtype in by_type:
        table.add_column(qtype)
    for key, label in RATE_ROWS:
        table.add_row(label, _cell(overall[key]), *(_cell(by_type[t][key]) for t in by_type))
    for key, label in (("mrr", "retrieval MRR"), ("unsupported_claims", "unsupported claims"), ("latency_p50_ms", "latency p50 ms"), ("latency_p95_ms", "latency p95 ms")):
        table.add_row(label, _cell(overall[key]), *(_cell(by_type[t][key]) for t in by_type))
    console.print(table)
    misses = [v for v in verdicts if not v.correct or v.unsupported_claims]
    for v in misses:
        console.print(f"[yellow]miss[/yellow] {v.id} ({v.type}): {v.question}", markup=True, highlight=False)
        console.print(f"     answer: {v.answer[:200]}", markup=False, highlight=False)
        for note in v.notes + [f"unsupported: {c}" for c in v.unsupported_claims]:
            console.print(f"     {note}", markup=False, highlight=False)
    if failures:
        console.print("[red]FAIL[/red] below thresholds: " + "; ".join(failures))
    else:
        console.print("[green]PASS[/green] every threshold met")
