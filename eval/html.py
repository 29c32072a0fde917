"""One self-contained HTML report: summary, charts of the rates by question type, every question's row.

No script, no outside resource: it opens from disk in any browser. Every value is HTML-escaped.
"""

from collections.abc import Sequence
from html import escape

from eval.metrics import Verdict
from eval.report import RATE_ROWS


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1d1d1f;background:#fff}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f2}
.ok{color:#176b2c;font-weight:600}.miss{color:#a11;font-weight:600}.num{text-align:right;white-space:nowrap}
.chart{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1rem}
.chart figure{margin:0;border:1px solid #ddd;border-radius:8px;padding:.5rem}.chart figcaption{font-weight:600;margin-bottom:.25rem}
.fail{background:#fde8e8;padding:.5rem 1rem;border-radius:8px}.pass{background:#e8f6ec;padding:.5rem 1rem;border-radius:8px}
small{color:#666}q{font-style:italic}
@media (prefers-color-scheme:dark){body{background:#151618;color:#e8e8e6}th{background:#24262a}th,td{border-color:#34373b}
.fail{background:#4a1f1f}.pass{background:#1f3a26}.ok{color:#7fd493}.miss{color:#ff9b9b}}
"""


def render_html(title: str, summary: dict[str, object], verdicts: Sequence[Verdict], failures: Sequence[str],
                regressions: Sequence[str] = ()) -> str:
    """The whole report as one HTML document."""
    overall = summary["overall"]
    by_type = summary["by_type"]
    assert isinstance(overall, dict) and isinstance(by_type, dict)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _verdict_banner(failures),
    ]
    if regressions:
        parts.append("<h2>Regressions against the baseline</h2><ul>" + "".join(f"<li>{escape(r)}</li>" for r in regressions) + "</ul>")
    parts.append("<h2>Summary</h2>" + _summary_table(overall, by_type))
    parts.append("<h2>Rates by question type</h2><div class='chart'>" + "".join(_chart(key, label, by_type) for key, label in RATE_ROWS) + "</div>")
    parts.append("<h2>Every question</h2>" + _question_table(verdicts))
    parts.append("</body></html>")
    return "\n".join(parts)


def _verdict_banner(failures: Sequence[str]) -> str:
    if not failures:
        return "<p class='pass'>Every threshold met.</p>"
    return "<div class='fail'><p>Below the thresholds:</p><ul>" + "".join(f"<li>{escape(f)}</li>" for f in failures) + "</ul></div>"


def _rate(value: object) -> str:
    if not isinstance(value, dict) or value.get("value") is None:
        return "—"
    text = f"{value['value']:.1%}"
    if value.get("low") is not None:
        text += f" <small>[{value['low']:.0%}–{value['high']:.0%}] n={value['n']}</small>"
    return text


def _summary_table(overall: dict[str, object], by_type: dict[str, object]) -> str:
    types = sorted(by_type)
    head = "<tr><th>metric</th><th>overall</th>" + "".join(f"<th>{escape(t)}</th>" for t in types) + "</tr>"
    rows = []
    for key, label in RATE_ROWS:
        cells = [_rate(overall.get(key))] + [_rate(by_type[t].get(key)) for t in types]  # type: ignore[union-attr]
        rows.append(f"<tr><td>{escape(label)}</td>" + "".join(f"<td class='num'>{c}</td>" for c in cells) + "</tr>")
    for key, label in (("mrr", "retrieval MRR"), ("unsupported_claims", "unsupported claims"),
                       ("latency_p50_ms", "latency p50 ms"), ("latency_p95_ms", "latency p95 ms")):
        cells = [overall.get(key)] + [by_type[t].get(key) for t in types]  # type: ignore[union-attr]
        rows.append(f"<tr><td>{escape(label)}</td>" + "".join(f"<td class='num'>{escape(_plain(c))}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _plain(value: object) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _chart(key: str, label: str, by_type: dict[str, object]) -> str:
    """A horizontal bar per question type (inline SVG), with its confidence interval as a line."""
    rows = [(t, v) for t in sorted(by_type) if isinstance(v := by_type[t].get(key), dict) and v.get("value") is not None]  # type: ignore[union-attr]
    if not rows:
        return ""
    width, bar, gap, left = 240, 16, 8, 90
    height = len(rows) * (bar + gap)
    total = left + width + 40
    svg = [f"<svg role='img' aria-label='{escape(label)} by type' width='100%' viewBox='0 0 {total} {height}'>"]
    for i, (name, value) in enumerate(rows):
        y = i * (bar + gap)
        length = width * float(value["value"])
        svg.append(f"<text x='0' y='{y + 12}' font-size='11' fill='currentColor'>{escape(name)}</text>")
        svg.append(f"<rect x='{left}' y='{y}' width='{width}' height='{bar}' fill='#8884' />")
        svg.append(f"<rect x='{left}' y='{y}' width='{length:.1f}' height='{bar}' fill='#1f5fbf' />")
        if value.get("low") is not None:
            low, high = left + width * float(value["low"]), left + width * float(value["high"])
            svg.append(f"<line x1='{low:.1f}' x2='{high:.1f}' y1='{y + bar / 2}' y2='{y + bar / 2}' stroke='currentColor' />")
        svg.append(f"<text x='{left + width + 4}' y='{y + 12}' font-size='11' fill='currentColor'>{float(value['value']):.0%}</text>")
    svg.append("</svg>")
    return f"<figure><figcaption>{escape(label)}</figcaption>{''.join(svg)}</figure>"


def _question_table(verdicts: Sequence[Verdict]) -> str:
    head = "<tr><th>id</th><th>type / split</th><th>question</th><th>answer</th><th>citations</th><th>verdict</th><th class='num'>ms</th></tr>"
    rows = []
    for v in verdicts:
        cited = "".join(f"<li><small>{escape(c['document_id'])}</small><br><q>{escape(c['quote'])}</q></li>" for c in v.citations)
        notes = "<br>".join(escape(n) for n in v.notes + [f"unsupported: {u}" for u in v.unsupported_claims])
        verdict = "<span class='ok'>right</span>" if v.correct else "<span class='miss'>miss</span>"
        rows.append(
            f"<tr><td>{escape(v.id)}</td><td>{escape(v.type)}<br><small>{escape(v.split)}</small></td>"
            f"<td>{escape(v.question)}</td><td>{escape(v.answer)}{' <small>(refused)</small>' if v.refused else ''}</td>"
            f"<td><ul>{cited}</ul></td><td>{verdict}<br><small>{notes}</small></td><td class='num'>{v.latency_ms:.0f}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"
