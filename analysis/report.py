"""Build the whole report of a study: load and validate, then tables, statistics, figures, summary."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from algorithms.registry import METHODS_DIR
from analysis.figures import plot_improvement, plot_iqm, plot_learning_curves
from analysis.formatting import TextTable, to_latex, to_markdown
from analysis.labels import Suite
from analysis.loading import CHANCE_METHOD, RunRef, load_study
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



def captions(suite: Suite) -> dict[str, str]:
    """The tables' captions for a study on ``suite``."""
    return {
        "table1": f"Table 1: average success, success and return on the {suite.title} train and test tasks.",
        "table2": f"Table 2: task-wise average success on {suite.title}.",
        "table5": f"Table 5: task-wise return on {suite.title} (sum of raw rewards per episode, γ = 1).",
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
    runs: Mapping[tuple[str, int], RunRef],
    chance: Mapping[int, Path],
    paper_dir: str | Path,
    out_dir: str | Path,
    suite: str = "ml10",
) -> list[Path]:
    """Write every file of :data:`REPORT_FILES` into ``out_dir``.

    ``runs``: per (method, seed) where the run lives and the ``config_hash`` it must carry; ``chance``:
    per seed the folder holding the chance reference's eval.csv (empty: none); ``suite``: ``"ml10"``,
    ``"ml45"`` or ``"ml1:<class>"``; ``paper_dir``: the paper's (ML10) values, used for ML10 only. All
    inputs are read and validated first (see :func:`analysis.loading.load_study`), so bad input fails
    before any table or figure is made. Returns the written paths.
    """
    out_dir, methods, benchmark = Path(out_dir), list(methods), Suite.named(suite)
    paper = load_paper_values(paper_dir)
    if not benchmark.has_paper_values:
        paper = paper.iloc[0:0]
    data = load_study(study=study, methods=methods, seeds=seeds, runs=runs, chance=chance, suite=benchmark,
                      partial=settings.partial)
    log.info("loaded %d runs of %s (%d gaps)", len(data.runs()), study, len(data.gaps))

    scores = final_scores(data.evaluations, settings)
    table_methods, table_scores = methods, scores
    if data.chance is not None:
        table_methods = [*methods, CHANCE_METHOD]
        table_scores = pd.concat([scores, final_scores(data.chance, ReportSettings())], ignore_index=True)
    expected, final_text = len(data.seeds), settings.describe()
    early, text = data.stopped_early(), captions(benchmark)

    table1 = overall_table(table_scores, table_methods, expected, benchmark)
    table1 = attach_paper_values(table1, paper, "table1")
    table1_layouts = overall_layouts(table1, table_methods, text["table1"], final_text, early)
    _write_table(out_dir, "table1", table1, table1_layouts)
    paper_tables = ["Table 1"] if table1["paper_mean"].notna().any() else []
    for stem, metric in TASK_TABLE_METRICS.items():
        table = task_table(table_scores, metric, table_methods, expected, benchmark)
        table = attach_paper_values(table, paper, stem)
        layouts = task_layouts(table, table_methods, text[stem], final_text, benchmark, early)
        _write_table(out_dir, stem, table, layouts)
        if table["paper_mean"].notna().any():
            paper_tables.append(f"Table {stem.removeprefix('table')}")
    write_csv_atomic(scores, out_dir / "final_scores.csv")

    iqm = iqm_table(scores, methods, settings, benchmark)
    _write_table(out_dir, "iqm", iqm, [iqm_layout(iqm, settings)])
    improvement = improvement_table(scores, methods, settings, benchmark)
    _write_table(out_dir, "probability_of_improvement", improvement, [improvement_layout(improvement, settings)])
    log.info("tables written to %s", out_dir)

    curves = learning_curves(data.evaluations, benchmark)
    write_csv_atomic(curves, out_dir / "learning_curves.csv")
    chance_curves = learning_curves(data.chance, benchmark) if data.chance is not None else None
    plot_learning_curves(curves, methods, chance_curves, expected, benchmark, out_dir / "figure4")
    plot_iqm(iqm, methods, settings.confidence, benchmark, out_dir / "iqm")
    plot_improvement(improvement, methods, settings.confidence, benchmark, out_dir / "probability_of_improvement")
    log.info("figures written to %s", out_dir)

    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _write_text(render_summary(data, settings, table1_layouts[0], SECTIONS, paper_tables, created, METHODS_DIR),
                out_dir / "summary.md")
    log.info("summary written to %s", out_dir / "summary.md")
    return [out_dir / name for name in REPORT_FILES]
