"""Snakemake entry point: the study's report (thin wrapper around analysis.report.build_report)."""

import logging
from pathlib import Path

from analysis.loading import RunRef
from analysis.report import build_report
from analysis.settings import ReportSettings


def main(snakemake) -> None:
    logging.basicConfig(filename=snakemake.log[0], level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    params = snakemake.params
    try:
        build_report(
            study=snakemake.wildcards.study, methods=list(params.methods), seeds=list(params.seeds),
            settings=ReportSettings.from_config(params.report),
            runs={(run["method"], int(run["seed"])): RunRef(
                      Path(run["path"]), run["config_hash"], Path(run["metaworld"]) if run["metaworld"] else None)
                  for run in params.runs},
            chance={int(seed): Path(path) for seed, path in params.chance.items()},
            paper_dir=params.paper_dir, out_dir=Path(snakemake.output[0]).parent, suite=params.benchmark,
        )
    except Exception:
        logging.getLogger("report").exception("the report failed")
        raise


if __name__ == "__main__":
    main(globals()["snakemake"])
