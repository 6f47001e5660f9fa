"""The one-page summary (Markdown): what the report covers, where its numbers come from, links to every
table and figure, and every gap in the data."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from analysis.formatting import TextTable, to_markdown
from analysis.labels import method_label
from analysis.loading import Study
from analysis.protocol import PAPER_PROTOCOL, metaworld_table, run_protocol
from analysis.settings import ReportSettings


def _clock(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}"


def _runs_table(study: Study) -> TextTable:
    header = ["Method", "Seed", "Final iteration", "Env steps", "Wall time (h:mm)", "Resumes", "Device",
              "Host", "SLURM job", "Commit"]
    rows = []
    for method, seed in study.runs():
        manifest = study.manifests[(method, seed)]
        evaluations = study.evaluations[(study.evaluations["method"] == method)
                                        & (study.evaluations["seed"] == seed)]
        commit = str(manifest["git_commit"] or "unknown")[:10] + (" (dirty)" if manifest["git_dirty"] else "")
        final, budget = int(evaluations["iteration"].max()), manifest["config"]["training"]["iterations"]
        final_text = str(final) if final == budget else f"{final} of {budget} (**stopped early**)"
        rows.append([method_label(method), str(seed), final_text,
                     f"{int(manifest['env_steps']):,}", _clock(float(manifest["wall_time"])),
                     str(manifest.get("resumes", 0)), str(manifest["device"]), str(manifest["host"]),
                     str(manifest["slurm_job_id"] or "-"), commit])
    return TextTable("", header, [(None, rows)])


def _distinct(study: Study, read) -> dict[str, list[str]]:
    """Value (as JSON text) -> the runs that have it, for one manifest field."""
    holders: dict[str, list[str]] = defaultdict(list)
    for method, seed in study.runs():
        value = read(study.manifests[(method, seed)])
        holders[json.dumps(value, sort_keys=True, default=str)].append(f"{method_label(method)}/{seed}")
    return dict(holders)


def _versions_lines(study: Study) -> list[str]:
    packages = sorted({name for manifest in study.manifests.values() for name in manifest["packages"]})
    lines = []
    for name in packages:
        values = _distinct(study, lambda manifest: manifest["packages"].get(name))
        if len(values) == 1:
            lines.append(f"- {name}: {json.loads(next(iter(values)))}")
        else:
            spread = "; ".join(f"{json.loads(v)} ({', '.join(runs)})" for v, runs in values.items())
            lines.append(f"- **{name} differs between runs**: {spread}")
    return lines


BUDGET_KEYS: tuple[str, ...] = ("training", "episode_length", "evaluation")
"""Manifest config keys that make up a run's budget when the config has no ``budget`` block."""


def run_budget(config: dict[str, Any]) -> dict[str, Any]:
    """A run's budget from its manifest config: ``budget`` if present, else the training, episode-length
    and evaluation settings."""
    if "budget" in config:
        return config["budget"]
    return {key: config[key] for key in BUDGET_KEYS if key in config}


def _flatten(value: Any, prefix: str = "") -> list[str]:
    """``key.sub=value`` items of a nested mapping, sorted by key."""
    if not isinstance(value, dict):
        return [f"{prefix}={value}"]
    return [item for key in sorted(value) for item in _flatten(value[key], f"{prefix}.{key}" if prefix else key)]


def _budget_lines(study: Study) -> list[str]:
    lines = []
    for method in study.methods:
        budgets = {", ".join(_flatten(run_budget(study.manifests[(method, seed)]["config"])))
                   for seed in study.seeds if (method, seed) in study.manifests}
        steps = [int(study.manifests[(method, seed)]["env_steps"])
                 for seed in study.seeds if (method, seed) in study.manifests]
        if not steps:
            lines.append(f"- {method_label(method)}: no run loaded")
            continue
        budget_text = " | ".join(f"`{budget}`" for budget in sorted(budgets))
        flag = " (**budgets differ between seeds**)" if len(budgets) > 1 else ""
        lines.append(f"- {method_label(method)}: {budget_text}{flag}; env steps per run at the end: "
                     f"{min(steps):,}" + (f" to {max(steps):,}" if max(steps) != min(steps) else ""))
    return lines


def _commit_lines(study: Study) -> list[str]:
    commits = _distinct(study, lambda manifest: [manifest["git_commit"], manifest["git_dirty"]])
    lines = []
    for value, runs in commits.items():
        commit, dirty = json.loads(value)
        note = " **with uncommitted changes**" if dirty else ""
        lines.append(f"- `{commit}`{note}: {', '.join(runs)}")
    return lines


def _method_file_lines(study: Study, methods_dir: Path) -> list[str]:
    """Hyper-parameters a method's runs used that differ from its ``config/methods/<method>.yaml``
    (a study's ``overrides``, or a method file edited since the runs)."""
    lines = []
    for method in study.methods:
        path = methods_dir / f"{method}.yaml"
        used = {json.dumps(study.manifests[(method, seed)]["config"].get("method_values"), sort_keys=True)
                for seed in study.seeds if (method, seed) in study.manifests}
        used.discard("null")
        if not used or not path.is_file():
            continue
        on_file = dict(item.split("=", 1) for item in _flatten(yaml.safe_load(path.read_text())))
        for values in sorted(used):
            run_items = dict(item.split("=", 1) for item in _flatten(json.loads(values)))
            changed = [f"`{key}={value}` (file: {on_file.get(key, 'absent')})"
                       for key, value in run_items.items() if on_file.get(key) != value]
            if changed:
                lines.append(f"- {method_label(method)}: {', '.join(changed)}")
    return lines or ["None: every run used its method file's values as they are."]


def _protocol_lines(study: Study, paper_tables: list[str]) -> list[str]:
    """Our protocol (per distinct value among the runs) and, when paper values are shown, theirs."""
    protocols = _distinct(study, run_protocol)
    lines = [f"- Ours: {json.loads(value)}" + ("" if len(protocols) == 1 else f" ({', '.join(runs)})")
             for value, runs in protocols.items()]
    if len(protocols) > 1:
        lines.append("- **The runs of this study differ in protocol**")
    if paper_tables:
        lines.append(f"- The paper's values ({', '.join(paper_tables)}): {PAPER_PROTOCOL}")
    return lines + ["- Why numbers under the two protocols differ: docs/protocol.md"]


def _metaworld_lines(study: Study) -> list[str]:
    if study.metaworld is None:
        return ["Not scored (`metaworld_evaluation.enabled: false`)."]
    return [
        "Every run's final policy scored by `metaworld.evaluation.metalearning_evaluation` (MetaWorld's "
        "own env construction, episodes and success counting; one sub-env per class; returns stop at the "
        "first success of a scored episode, ours sum every step). Settings in the runs' "
        "`metaworld_<id>.csv` logs and docs/protocol.md.", "",
        to_markdown(metaworld_table(study.metaworld, study.evaluations, study.methods)).rstrip(),
    ]


def _paper_line(study: Study, paper_tables: list[str]) -> str:
    if not study.suite.has_paper_values:
        return (f"- Paper values beside ours: none (the paper has no numbers for {study.suite.title}; "
                "reports/paper/ holds its ML10 values)")
    return (f"- Paper values beside ours: {', '.join(paper_tables) if paper_tables else 'none'} "
            "(the paper's text gives no numbers for the other tables)")


def render_summary(
    study: Study,
    settings: ReportSettings,
    table1: TextTable,
    links: dict[str, list[str]],
    paper_tables: list[str],
    created: str,
    methods_dir: Path,
) -> str:
    """The Markdown of summary.md. ``links``: section title -> file names (relative to the report);
    ``paper_tables``: the tables that have paper values beside ours."""
    methods = ", ".join(f"{method_label(m)} (`{m}`)" for m in study.methods)
    chance_seeds = sorted(study.chance["seed"].unique()) if study.chance is not None else []
    lines: list[Any] = [
        f"# Study `{study.name}`: {study.suite.title} report", "",
        f"Generated {created} by the `analysis` package from the runs listed at the end.", "",
        f"- Methods: {methods}",
        f"- Seeds: {', '.join(map(str, study.seeds))} ({len(study.runs())} of "
        f"{len(study.methods) * len(study.seeds)} runs loaded)",
        f"- Final score of a run: {settings.describe()} (`report.final_point: {settings.final_point}`"
        + (f", `last_k: {settings.last_k}`)" if settings.final_point == "mean_last_k" else ")"),
        "- Chance level: uniform random actions, seeds " + (", ".join(map(str, chance_seeds))
                                                           if chance_seeds else "none found (not shown)"),
        _paper_line(study, paper_tables), "",
        "## Missing data", "",
    ]
    if study.gaps:
        lines += ["**This is a partial report** (`report.partial: true`). Missing:", ""]
        lines += [f"- {gap}" for gap in study.gaps]
    else:
        lines.append("None: every run has every task at every evaluation point.")
    lines += ["", "## Headline (Table 1)", "", to_markdown(table1).rstrip(),
              "", "## Protocol", "", *_protocol_lines(study, paper_tables),
              "", "## MetaWorld's evaluation beside ours", "", *_metaworld_lines(study),
              "", "## Files", ""]
    for section, files in links.items():
        lines.append(f"- {section}: " + ", ".join(f"[{name}]({name})" for name in files))
    lines += ["", "## Budget (from the run manifests)", "", *_budget_lines(study),
              "", f"## Hyper-parameters that differ from the method files ({methods_dir.name}/)", "",
              *_method_file_lines(study, methods_dir),
              "", "## Code and package versions", "", *_commit_lines(study), "", *_versions_lines(study),
              "", "## Runs included", "", to_markdown(_runs_table(study))]
    return "\n".join(lines).rstrip() + "\n"
