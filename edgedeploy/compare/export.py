"""The study's files in DIR: results.json (everything, every sample), results.csv (one row per model,
raw numbers), report.md, report.html (self-contained: the plot is embedded) and report.png.

Every file is written atomically, so a reader never sees half a report."""

from __future__ import annotations

import base64
import csv
import html
import io
from pathlib import Path

from edgedeploy.compare.result import CompareResult
from edgedeploy.compare.sections import sections
from edgedeploy.compare.tables import columns, csv_records
from edgedeploy.outputs import atomic_write_bytes, atomic_write_text
from edgedeploy.report import envelope_json

NUMERIC = ' class="num"'
# The browser records the decoded plot size on the image (and says so in the page when it fails), so
# a rendered report can be verified, by a person or by a headless browser, without guessing.
IMAGE_CHECK = (
    "onload=\"this.dataset.rendered=this.naturalWidth+'x'+this.naturalHeight\" "
    "onerror=\"this.insertAdjacentText('afterend', '(the plot could not be displayed)')\""
)
FILES = ("results.json", "results.csv", "report.md", "report.html", "report.png")
STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;white-space:nowrap}tr.failed td{color:#b00}
img{max-width:100%;border:1px solid #ddd}h2{margin-top:1.6em}li{margin:0.2em 0}"""


def subtitle(result: CompareResult) -> str:
    machine = result.environment.get("cpu_model") or "this machine"
    mapped = result.mapped
    predicted = f"; {mapped.column_name} mapping predicted" if mapped else ""
    return f"edgedeploy compare: int8 TFLite models; latency measured on {machine}{predicted}"


def to_csv(result: CompareResult) -> str:
    records = csv_records(result.rows, result.variants, result.mapped)
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=list(records[0]) if records else ["model"], lineterminator="\n"
    )
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return buffer.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(result: CompareResult, plot_name: str = "report.png") -> str:
    cols = columns(result.variants, result.mapped)
    lines = [
        f"# Model comparison ({len(result.rows)} models)",
        "",
        "| " + " | ".join(_md_cell(c.header) for c in cols) + " |",
        "|" + "|".join("---:" if c.numeric else "---" for c in cols) + "|",
    ]
    lines += ["| " + " | ".join(_md_cell(c.show(row)) for c in cols) + " |" for row in result.rows]
    lines += ["", f"![the study at a glance]({plot_name})", ""]
    for title, body in sections(result):
        lines += [f"## {title}", ""] + [f"- {_md_cell(line)}" for line in body] + [""]
    return "\n".join(lines)


def to_html(result: CompareResult, png: bytes) -> str:
    cols = columns(result.variants, result.mapped)
    head = "".join(f"<th>{html.escape(c.header)}</th>" for c in cols)
    body = []
    for row in result.rows:
        cells = "".join(
            f"<td{NUMERIC if c.numeric else ''}>{html.escape(c.show(row))}</td>" for c in cols
        )
        body.append(
            f'<tr class="{row.status}" data-model="{html.escape(row.item.label)}">{cells}</tr>'
        )
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>edgedeploy compare</title>'
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Model comparison ({len(result.rows)} models)</h1>",
        f'<table id="compare-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>',
        f'<h2>At a glance</h2><img id="overview" alt="{html.escape(subtitle(result))}" {IMAGE_CHECK} '
        f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">',
    ]
    for title, lines in sections(result):
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        parts.append(
            f'<h2>{html.escape(title)}</h2><ul class="{title.lower().replace(" ", "-")}">{items}</ul>'
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_reports(result: CompareResult, directory: Path) -> list[str]:
    from edgedeploy.compare.plots import overview_png

    directory = Path(directory)
    png = overview_png(result.rows, result.variants, subtitle(result), result.mapped)
    result.files = list(FILES)
    atomic_write_bytes(directory / "report.png", png)
    atomic_write_text(directory / "results.csv", to_csv(result))
    atomic_write_text(directory / "report.md", to_markdown(result))
    atomic_write_text(directory / "report.html", to_html(result, png))
    atomic_write_text(
        directory / "results.json", envelope_json("compare", result.to_dict())
    )  # last: it lists the others
    return result.files
