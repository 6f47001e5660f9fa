"""``python -m analysis``: the report of the study in a config file, outside Snakemake.

Useful for a partial report while runs are still going (``--partial``); the Snakemake rule ``report``
calls the same :func:`analysis.report.build_report`. The config is validated exactly as the workflow
validates it (study.config: YAML, schema, benchmark, method files + overrides), and the runs are found
through the same plan (study.plan), i.e. the folders named by the hash of each run's settings.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from analysis.errors import ReportInputError
from analysis.loading import RunRef
from analysis.report import build_report
from analysis.settings import ReportSettings
from study.config import StudyConfigError, load_study_config
from study.plan import plan_study


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="config/config.yaml", help="study config (as given to snakemake)")
    parser.add_argument("--results", default="results", help="directory holding runs/ and random/")
    parser.add_argument("--paper", default="reports/paper", help="directory of the paper's reference values")
    parser.add_argument("--out", default=None, help="report directory (default: reports/<study>)")
    parser.add_argument("--partial", action="store_true", help="report what exists, marking gaps")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = load_study_config(args.config)
        plan = plan_study(config, args.config)
        block = dict(config["report"])
        if args.partial:
            block["partial"] = True
        paths = build_report(
            study=plan.study, methods=config["methods"], seeds=config["seeds"],
            settings=ReportSettings.from_config(block),
            runs={cell: RunRef(job.run_dir(Path(args.results)), job.config_hash,
                               job.metaworld_scores(config["metaworld_evaluation"], Path(args.results))
                               if config["metaworld_evaluation"]["enabled"] else None)
                  for cell, job in plan.training.items()},
            chance={seed: job.run_dir(Path(args.results)) for seed, job in plan.chance.items()},
            paper_dir=args.paper, out_dir=args.out or Path("reports") / plan.study, suite=config["benchmark"],
        )
    except (StudyConfigError, ReportInputError, FileNotFoundError) as error:
        print(f"python -m analysis: {error}", file=sys.stderr)
        return 2
    print(paths[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
