"""The `rag` command: ingest, ask, documents, serve, eval."""

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rag.config import Settings
from rag.errors import RagError

app = typer.Typer(help="Question answering over news articles, with cited sentences.", no_args_is_help=True)
documents_app = typer.Typer(help="List, show and delete stored articles.", no_args_is_help=True)
app.add_typer(documents_app, name="documents")
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"RAG_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        err.print(f"[red]error:[/red] bad configuration: {problems}")
        raise typer.Exit(2) from exc


def _with_answerer(settings: Settings, answerer: str) -> Settings:
    try:
        return Settings.model_validate({**settings.model_dump(), "answerer": answerer})
    except ValidationError as exc:
        err.print(f"[red]error:[/red] --answerer must be extractive, local or openai, not {answerer!r}")
        raise typer.Exit(2) from exc


@contextmanager
def _clear_errors() -> Iterator[None]:
    """Print the package's errors as one sentence and exit 1, never a traceback."""
    try:
        yield
    except RagError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


def _pipeline(settings: Settings) -> Any:
    from rag.pipeline import build

    return build(settings)


def _jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[item]}"), console=err, transient=False,
    )


def _with_progress(label: str, work: Callable[[Callable[[int, int, str], None]], T]) -> T:
    with _progress() as progress:
        task = progress.add_task(label, total=None, item="")

        def update(done: int, total: int, item: str) -> None:
            progress.update(task, completed=done, total=total, item=item[:50])

        return work(update)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (searched recursively).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Add articles (.txt .md .html .jsonl .pdf); unchanged ones are skipped, changed ones replaced."""
    settings = _settings()
    with _clear_errors():
        pipeline = _pipeline(settings)
        pipeline.prepare(answerer=False)
        results, failures = _with_progress("ingesting", lambda update: pipeline.ingest_paths(paths, update))
        pipeline.close()
    counts = {status: sum(1 for r in results if r.status == status) for status in ("created", "updated", "unchanged")}
    if as_json:
        out.print_json(data=_jsonable({**counts, "failed": len(failures), "documents": [asdict(r) for r in results], "failures": [asdict(f) for f in failures]}))
    else:
        out.print(f"created {counts['created']}, updated {counts['updated']}, unchanged {counts['unchanged']}, failed {len(failures)}")
        for failure in failures:
            out.print(f"  [yellow]failed[/yellow] {failure.source}: {failure.reason}")
    if failures and not results:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in plain words.")],
    top_k: Annotated[int | None, typer.Option(min=1, max=50, help="Passages to retrieve.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full JSON answer.")] = False,
) -> None:
    """Answer a question from the stored articles, citing the sentences it rests on."""
    settings = _settings()
    with _clear_errors():
        answer = _pipeline(settings).ask(question, top_k)
    if as_json:
        out.print_json(data=_jsonable(asdict(answer)))
        return
    if answer.short:
        out.print(answer.short, markup=False, style="bold")
    out.print(answer.answer, markup=False)
    for c in answer.citations:
        out.print(f"  [{c.n}] {c.title} ({c.document_id}, chars {c.start}-{c.end})", markup=False, style="dim")
        out.print(f"      “{c.quote}”", markup=False)


@documents_app.command("list")
def documents_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every stored article."""
    with _clear_errors():
        docs = _pipeline(_settings()).documents()
    if as_json:
        out.print_json(data=_jsonable([asdict(d) for d in docs]))
        return
    table = Table("title", "published", "source", "chunks")
    table.add_column("id", no_wrap=True)
    for d in docs:
        table.add_row(d.title[:70], str(d.published or ""), d.source or "", str(d.chunks), d.id)
    out.print(table)


@documents_app.command("show")
def documents_show(document_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One article's metadata and text."""
    with _clear_errors():
        view = _pipeline(_settings()).document(document_id)
    if as_json:
        out.print_json(data=_jsonable({**asdict(view.info), "text": view.text}))
        return
    out.print(f"[bold]{view.info.title}[/bold]\n{view.info.id} · {view.info.published or 'no date'} · {view.info.source or ''} · {view.info.url or ''}\n")
    out.print(view.text, markup=False)


@documents_app.command("delete")
def documents_delete(document_id: str) -> None:
    """Remove an article and every chunk of it."""
    with _clear_errors():
        removed = _pipeline(_settings()).delete(document_id)
    out.print(f"deleted {document_id} ({removed} chunks)")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default RAG_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default RAG_PORT, 8000).")] = None,
    seed: Annotated[list[Path] | None, typer.Option(help="Ingest these paths first when the index is empty.")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app

    _limit_malloc_arenas()
    settings = _settings()
    bind = host or settings.host
    if bind not in ("127.0.0.1", "localhost", "::1") and not settings.api_key:
        err.print(f"[red]error:[/red] refusing to serve on {bind} without a write key: set RAG_API_KEY (and RAG_READ_KEY to guard reads)")
        raise typer.Exit(2)
    with _clear_errors():
        pipeline = _pipeline(settings)
        if seed and pipeline.chunk_count() == 0:
            results, failures = _with_progress("seeding", lambda update: pipeline.ingest_paths(seed, update))
            err.print(f"seeded {len(results)} articles ({len(failures)} failed)")
        pipeline.prepare()
        err.print(f"answering with {pipeline.answerer_name}")
    from api.observe import configure_json_logs

    configure_json_logs()
    uvicorn.run(create_app(pipeline), host=bind, port=port or settings.port, log_level="warning", access_log=False)
    pipeline.close()


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Two malloc arenas for the server's threads. glibc gives each thread that allocates under contention a heap of
    its own (up to 8 per core) and keeps what was freed there: 20 concurrent clients grew the server by ~100 MB at
    100k chunks (bench/); with two arenas, +20 MB and the same answers/s. Nothing happens on another C library."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError, TypeError):
        pass


@app.command("eval")
def evaluate(
    dataset: Annotated[Path | None, typer.Option(help="JSONL questions (default: the seeds set).")] = None,
    split: Annotated[str | None, typer.Option(help="Only this split (calibration or test).")] = None,
    corpus: Annotated[list[Path] | None, typer.Option(help="Ingest these articles into a temporary index first.")] = None,
    url: Annotated[str | None, typer.Option(help="Evaluate a running service over HTTP instead.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write every row and the summary here.")] = None,
    answerer: Annotated[str | None, typer.Option(help="extractive, local or openai (default: RAG_ANSWERER).")] = None,
    html_path: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    baseline: Annotated[Path | None, typer.Option(help="An earlier --json file: list what got worse.")] = None,
    judge: Annotated[str | None, typer.Option(help="`openai`: also grade answers with an LLM judge (RAG_OPENAI_* settings).")] = None,
    lead_in: Annotated[
        str | None, typer.Option(help='Open every question with this sentence, `{date}` filled from its row ("Today is {date}.").')
    ] = None,
    minimum: Annotated[
        list[str] | None, typer.Option("--min", help="Another pass mark for this run, NAME=VALUE (e.g. answer_accuracy=0.95).")
    ] = None,
) -> None:
    """Score answers against known facts; exit 1 below the project's thresholds."""
    from eval.cli import run_eval
    from eval.judge import OpenAIJudge
    from eval.run import parse_pass_marks

    if judge not in (None, "openai"):
        err.print(f"[red]error:[/red] --judge can only be openai, not {judge!r}")
        raise typer.Exit(2)
    try:
        pass_marks = parse_pass_marks(minimum or [])
    except ValueError as exc:
        err.print(f"[red]error:[/red] --min {exc}")
        raise typer.Exit(2) from None
    settings = None if url else _settings()
    if settings is not None and answerer:
        settings = _with_answerer(settings, answerer)
    with _clear_errors():
        grader = OpenAIJudge.from_settings(settings or _settings()) if judge else None
        code = run_eval(
            settings=settings, dataset=dataset, split=split, corpus=corpus, url=url,
            json_path=json_path, console=out, progress_console=err, html_path=html_path, baseline_path=baseline, judge=grader,
            pass_marks=pass_marks, lead_in=lead_in,
        )
    raise typer.Exit(code)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="rag")


if __name__ == "__main__":
    sys.exit(main())
