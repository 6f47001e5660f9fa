"""``python -m analysis``: the report of the study in a config file, outside Snakemake.

Useful for a partial report while runs are still going (``--partial``); the Snakemake rule ``report``
calls the same :func:`analysis.report.build_report`.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

import yaml

from analysis.report import build_report
from analysis.settings import ReportSettings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="config/config.yaml", help="study config (study, methods, seeds, report)")
    parser.add_argument("--results", default="results", help="directory holding runs/ and random/")
    parser.add_argument("--paper", default="reports/paper", help="directory of the paper's reference values")
    parser.add_argument("--out", default=None, help="report directory (default: reports/<study>)")
    parser.add_argument("--partial", action="store_true", help="report what exists, marking gaps")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = yaml.safe_load(Path(args.config).read_text())
    block = dict(config.get("report") or {})
    if args.partial:
        block["partial"] = True
    paths = build_report(study=config["study"], methods=config["methods"], seeds=config["seeds"],
                         settings=ReportSettings.from_config(block), results_dir=args.results,
                         paper_dir=args.paper, out_dir=args.out)
    print(paths[0])


if __name__ == "__main__":
    main()
