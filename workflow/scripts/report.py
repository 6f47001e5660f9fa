"""Snakemake entry point: the study's report (thin wrapper around analysis.report.build_report)."""

import logging
from pathlib import Path

from analysis.report import build_report
from analysis.settings import ReportSettings


def main(snakemake) -> None:
    logging.basicConfig(filename=snakemake.log[0], level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        build_report(
            study=snakemake.wildcards.study, methods=list(snakemake.params.methods),
            seeds=list(snakemake.params.seeds), settings=ReportSettings.from_config(snakemake.params.report),
            results_dir="results", paper_dir=snakemake.params.paper_dir,
            out_dir=Path(snakemake.output[0]).parent,
        )
    except Exception:
        logging.getLogger("report").exception("the report failed")
        raise


if __name__ == "__main__":
    main(globals()["snakemake"])
