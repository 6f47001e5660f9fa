"""Table cells and the Markdown / LaTeX (booktabs) rendering of a sectioned table."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

DIGITS: dict[str, int] = {"avg_success": 2, "success": 2, "return": 1}
"""Decimals per metric (the paper prints success metrics with two)."""

MISSING = "—"


@dataclass(frozen=True)
class TextTable:
    """A table to render: a caption, a header row, titled sections of rows and footnotes.

    ``groups`` optionally spans labels over the columns after the first, e.g. ``[("Train", 3),
    ("Test", 3)]``: a header row of its own in LaTeX, ``"label (group)"`` column names in Markdown.
    """

    caption: str
    header: list[str]
    sections: list[tuple[str | None, list[list[str]]]]
    notes: list[str] = field(default_factory=list)
    groups: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.groups and sum(span for _, span in self.groups) != len(self.header) - 1:
            raise ValueError(f"groups {self.groups} do not span the {len(self.header) - 1} value columns")

    def flat_header(self) -> list[str]:
        """The header with each column's group folded into its name."""
        if not self.groups:
            return list(self.header)
        names = [group for group, span in self.groups for _ in range(span)]
        return [self.header[0], *[f"{label} ({group.lower()})" for label, group in zip(self.header[1:], names)]]


def format_estimate(mean: float, std: float, seeds: int, expected: int, digits: int) -> str:
    """``mean ± std`` over seeds; ``[n/N seeds]`` when seeds are missing, ``—`` when none is there.

    With a single seed there is no spread to show, so the cell is the mean alone.
    """
    if seeds == 0 or math.isnan(mean):
        return MISSING
    text = f"{mean:.{digits}f}"
    if seeds > 1:
        text += f" ± {std:.{digits}f}"
    if seeds < expected:
        text += f" [{seeds}/{expected} seeds]"
    return text


def format_comparison(ours: str, paper: str, difference: float, digits: int) -> str:
    """``ours / paper (Δ ours - paper)``; no Δ when either side is missing."""
    if math.isnan(difference):
        return f"{ours} / {paper}"
    return f"{ours} / {paper} (Δ {difference:+.{digits}f})"


def _markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def to_markdown(table: TextTable) -> str:
    """GitHub-flavoured Markdown: caption (if any) in bold, a bold row per section title, notes below."""
    width = len(table.header)
    lines = [f"**{table.caption}**", ""] if table.caption else []
    lines += [_markdown_row(table.flat_header()), "|" + "|".join([":---"] + ["---:"] * (width - 1)) + "|"]
    for title, rows in table.sections:
        if title is not None:
            lines.append(_markdown_row([f"**{title}**"] + [""] * (width - 1)))
        lines.extend(_markdown_row(row) for row in rows)
    lines.append("")
    lines.extend(f"{note}  " for note in table.notes)
    return "\n".join(lines).rstrip() + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_LATEX_UNICODE = {"±": r"$\pm$", "—": "--", "Δ": r"$\Delta$", "−": "$-$", "γ": r"$\gamma$"}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters and spell the few Unicode symbols the tables use."""
    escaped = "".join(_LATEX_SPECIAL.get(char, char) for char in text)
    for symbol, replacement in _LATEX_UNICODE.items():
        escaped = escaped.replace(symbol, replacement)
    return escaped


def to_latex(table: TextTable, label: str) -> str:
    """A ``table`` environment with a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``)."""
    width = len(table.header)
    lines = [
        r"\begin{table}[t]", r"\centering", r"\small",
        rf"\caption{{{latex_escape(table.caption)}}}", rf"\label{{{label}}}",
        r"\begin{tabular}{l" + "r" * (width - 1) + "}", r"\toprule",
    ]
    if table.groups:
        spans = [rf"\multicolumn{{{span}}}{{c}}{{{latex_escape(group)}}}" for group, span in table.groups]
        lines.append(" & ".join(["", *spans]) + r" \\")
        first, rules = 2, []
        for _, span in table.groups:
            rules.append(rf"\cmidrule(lr){{{first}-{first + span - 1}}}")
            first += span
        lines.append(" ".join(rules))
    lines += [" & ".join(latex_escape(cell) for cell in table.header) + r" \\", r"\midrule"]
    for index, (title, rows) in enumerate(table.sections):
        if title is not None:
            if index > 0:
                lines.append(r"\midrule")
            lines.append(rf"\multicolumn{{{width}}}{{l}}{{\textit{{{latex_escape(title)}}}}} \\")
        lines.extend(" & ".join(latex_escape(cell) for cell in row) + r" \\" for row in rows)
    lines += [r"\bottomrule", r"\end{tabular}"]
    if table.notes:
        lines.append(r"\par\smallskip\footnotesize " + " ".join(latex_escape(n) for n in table.notes))
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
