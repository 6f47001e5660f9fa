"""The errors the analysis raises on bad input; each message names the run or file and the fix."""

from __future__ import annotations

PARTIAL_HINT = (
    "Train or re-evaluate what is missing, or set report.partial: true in the study config to report "
    "what exists, with every gap marked in the tables and listed in summary.md."
)


class ReportInputError(ValueError):
    """Input the report cannot be built from (missing data, corrupt files, bad settings)."""


class MissingDataError(ReportInputError):
    """A run, task or evaluation point the study expects is absent (and report.partial is false)."""


class CorruptRunFileError(ReportInputError):
    """A run file exists but cannot be read or fails its format checks; the message names the file."""


class StaleRunError(ReportInputError):
    """A run's manifest carries another ``config_hash`` than the study expects: the run was produced
    with other settings, so it is not the run the study asks for."""
