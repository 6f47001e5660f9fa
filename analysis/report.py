"""Build the whole report of a study: load and validate, then tables, statistics, figures, summary."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from algorithms.registry import METHODS_DIR
from analysis.figures import plot_improvement, plot_iqm, plot_learning_curves
from analysis.formatting import TextTable, to_latex, to_markdown
from analysis.loading import CHANCE_METHOD, load_study
from analysis.paper import attach_paper_values, load_paper_values
from analysis.robust import improvement_layout, improvement_table, iqm_layout, iqm_table
from analysis.scores import final_scores, learning_curves
from analysis.settings import ReportSettings
from analysis.summary import render_summary
from analysis.tables import TASK_TABLE_METRICS, overall_layouts, overall_table, task_layouts, task_table
from envs.io import write_atomic, write_csv_atomic

log = logging.getLogger(__name__)

TABLE_FORMATS: tuple[str, ...] = ("csv", "md", "tex")
FIGURE_FORMATS: tuple[str, ...] = ("png", "pdf")
SECTIONS: dict[str, list[str]] = {
    "Table 1 (per method and split)": [f"table1.{ext}" for ext in TABLE_FORMATS],
    "Table 2 (task-wise average success, beside the paper's)": [f"table2.{ext}" for ext in TABLE_FORMATS],
    "Table 5 (task-wise return)": [f"table5.{ext}" for ext in TABLE_FORMATS],
    "Figure 4 (learning curves)": [f"figure4.{ext}" for ext in FIGURE_FORMATS],
    "IQM with bootstrap intervals": [f"iqm.{ext}" for ext in (*TABLE_FORMATS, *FIGURE_FORMATS)],
    "Probability of improvement": [f"probability_of_improvement.{ext}"
                                   for ext in (*TABLE_FORMATS, *FIGURE_FORMATS)],
    "Data behind the tables and figures": ["final_scores.csv", "learning_curves.csv"],
}
REPORT_FILES: tuple[str, ...] = ("summary.md", *[name for files in SECTIONS.values() for name in files])
"""Every file ``build_report`` writes into the report directory (the report rule's outputs)."""

CAPTIONS: dict[str, str] = {
    "table1": "Table 1: average success, success and return on the ML10 train and test tasks.",
    "table2": "Table 2: task-wise average success.",
    "table5": "Table 5: task-wise return (sum of raw rewards per episode, γ = 1).",
}


def _write_text(text: str, path: Path) -> None:
    write_atomic(path, lambda stream: stream.write(text))


def _write_table(out_dir: Path, stem: str, frame: pd.DataFrame, layouts: list[TextTable]) -> None:
    write_csv_atomic(frame, out_dir / f"{stem}.csv")
    _write_text("\n".join(to_markdown(layout) for layout in layouts), out_dir / f"{stem}.md")
    labels = [f"tab:{stem}", *[f"tab:{stem}-{index}" for index in range(1, len(layouts))]]
    _write_text("\n".join(to_latex(layout, label) for layout, label in zip(layouts, labels)),
                out_dir / f"{stem}.tex")


def build_report(
    *,
    study: str,
    methods: list[str],
    seeds: list[int],
    settings: ReportSettings,
    results_dir: str | Path = "results",
    paper_dir: str | Path = "reports/paper",
    out_dir: str | Path | None = None,
) -> list[Path]:
    """Write every file of :data:`REPORT_FILES` into ``out_dir`` (default ``reports/{study}``).

    All inputs are read and validated first (see :func:`analysis.loading.load_study`), so bad input fails
    before any table or figure is made. Returns the written paths.
    """
    out_dir = Path(out_dir if out_dir is not None else Path("reports") / study)
    methods = list(methods)
    paper = load_paper_values(paper_dir)
    data = load_study(results_dir, study, methods, seeds, partial=settings.partial)
    log.info("loaded %d runs of %s (%d gaps)", len(data.runs()), study, len(data.gaps))

    scores = final_scores(data.evaluations, settings)
    table_methods, table_scores = methods, scores
    if data.chance is not None:
        table_methods = [*methods, CHANCE_METHOD]
        table_scores = pd.concat([scores, final_scores(data.chance, ReportSettings())], ignore_index=True)
    expected = len(data.seeds)
    final_text = settings.describe()

    table1 = attach_paper_values(overall_table(table_scores, table_methods, expected), paper, "table1")
    table1_layouts = overall_layouts(table1, table_methods, CAPTIONS["table1"], final_text)
    _write_table(out_dir, "table1", table1, table1_layouts)
    paper_tables = ["Table 1"] if table1["paper_mean"].notna().any() else []
    for stem, metric in TASK_TABLE_METRICS.items():
        table = attach_paper_values(task_table(table_scores, metric, table_methods, expected), paper, stem)
        _write_table(out_dir, stem, table, task_layouts(table, table_methods, CAPTIONS[stem], final_text))
        if table["paper_mean"].notna().any():
            paper_tables.append(f"Table {stem.removeprefix('table')}")
    write_csv_atomic(scores, out_dir / "final_scores.csv")

    iqm = iqm_table(scores, methods, settings)
    _write_table(out_dir, "iqm", iqm, [iqm_layout(iqm, settings)])
    improvement = improvement_table(scores, methods, settings)
    _write_table(out_dir, "probability_of_improvement", improvement, [improvement_layout(improvement, settings)])
    log.info("tables written to %s", out_dir)

    curves = learning_curves(data.evaluations)
    write_csv_atomic(curves, out_dir / "learning_curves.csv")
    chance_curves = learning_curves(data.chance) if data.chance is not None else None
    plot_learning_curves(curves, methods, chance_curves, expected, out_dir / "figure4")
    plot_iqm(iqm, methods, settings.confidence, out_dir / "iqm")
    plot_improvement(improvement, methods, settings.confidence, out_dir / "probability_of_improvement")
    log.info("figures written to %s", out_dir)

    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _write_text(render_summary(data, settings, table1_layouts[0], SECTIONS, paper_tables, created, METHODS_DIR),
                out_dir / "summary.md")
    log.info("summary written to %s", out_dir / "summary.md")
    return [out_dir / name for name in REPORT_FILES]
