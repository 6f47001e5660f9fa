"""Snakemake entry point of the ``evaluate_metaworld`` rule (thin wrapper around score_training_job)."""

import logging
from pathlib import Path

from algorithms.score_job import score_training_job
from study.jobs import TrainingJob


def main(snakemake) -> None:
    logging.basicConfig(filename=snakemake.log[0], level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    log = logging.getLogger("evaluate_metaworld")
    job = TrainingJob(**snakemake.params.job)
    if job.run_id != snakemake.wildcards.run_id:
        raise RuntimeError(f"this job's settings hash to run {job.run_id}, but Snakemake asked for run "
                           f"{snakemake.wildcards.run_id}: the job sees another config than the driver")
    try:
        written = score_training_job(job, dict(snakemake.params.settings), Path("results"), Path("checkpoints"), log)
    except Exception:
        log.exception("scoring failed")
        raise
    if str(written) != snakemake.output[0]:
        raise RuntimeError(f"wrote {written}, but the rule expects {snakemake.output[0]}")


if __name__ == "__main__":
    main(globals()["snakemake"])
