"""`rag eval` / `python -m eval`: load, run with progress, report, write JSON, gate on thresholds."""

import json
import tempfile
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from eval.baseline import load_baseline, regressions
from eval.dataset import load_dataset, with_lead_in
from eval.html import render_html
from eval.judge import OpenAIJudge, judge_all
from eval.metrics import summarize
from eval.report import print_report
from eval.run import DEFAULT_DATASET, HttpTarget, PipelineTarget, Target, failed_thresholds, load_thresholds, run
from rag.config import Settings
from rag.errors import InvalidInput
from rag.pipeline import build


def run_eval(
    *,
    settings: Settings | None,
    dataset: Path | None,
    split: str | None,
    corpus: list[Path] | None,
    url: str | None,
    json_path: Path | None,
    console: Console,
    html_path: Path | None = None,
    baseline_path: Path | None = None,
    judge: OpenAIJudge | None = None,
    progress_console: Console,
    pass_marks: dict[str, float] | None = None,
    lead_in: str | None = None,
) -> int:
    """Evaluate and report; 0 when every threshold is met, 1 otherwise."""
    questions = load_dataset(dataset or DEFAULT_DATASET, split)
    if lead_in:
        questions = with_lead_in(questions, lead_in)
    baseline = load_baseline(baseline_path) if baseline_path else None
    answerer = "service at " + url if url else ""
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as scratch:
        target: Target
        if url:
            target = HttpTarget(url)
        else:
            assert settings is not None
            if corpus:
                settings = settings.model_copy(update={"data_dir": Path(scratch)})
            pipeline = build(settings)
            if corpus:
                results, failures = pipeline.ingest_paths(corpus)
                if not results:
                    raise InvalidInput(f"no article could be ingested from {', '.join(map(str, corpus))}")
                progress_console.print(f"ingested {len(results)} articles into a temporary index ({len(failures)} failed)")
            pipeline.prepare(wait_for_models=True)  # no answer's deadline is spent loading a model
            answerer = pipeline.answerer_name
            progress_console.print(f"answering with {answerer}")
            target = PipelineTarget(pipeline)
        with Progress(TextColumn("[bold]evaluating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=progress_console) as progress:
            task = progress.add_task("eval", total=len(questions))
            verdicts = run(questions, target, lambda done, total: progress.update(task, completed=done))
    summary = summarize(verdicts)
    if judge is not None:
        report = judge_all(judge, questions, verdicts)
        summary["judge"] = report.as_dict()
        agreement = f"{report.agreement:.1%}" if report.agreement is not None else "—"
        accuracy = f"{report.judge_accuracy:.1%}" if report.judge_accuracy is not None else "—"
        console.print(f"judge {report.model}: {report.judged} answers graded, judged right {accuracy}, agrees with the alias matcher on {agreement}")
        for line in report.disagreements:
            console.print(f"  disagreement: {line}")
    failures_found = failed_thresholds(summary, {**load_thresholds(), **(pass_marks or {})})
    print_report(summary, verdicts, failures_found, console)
    worse = regressions(summary, verdicts, baseline) if baseline else []
    if baseline is not None:
        console.print(f"[bold]against {baseline_path}:[/bold] " + ("no regressions" if not worse else f"{len(worse)} regressions"))
        for line in worse:
            console.print(f"  regression: {line}")
    if html_path:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        title = f"rag eval: {len(verdicts)} questions, {answerer or 'in-process'}"
        html_path.write_text(render_html(title, summary, verdicts, failures_found, worse), encoding="utf-8")
        console.print(f"report: {html_path}")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"answerer": answerer, "summary": summary, "questions": [v.as_dict() for v in verdicts]}, indent=2, ensure_ascii=False))
    return 1 if failures_found else 0
