"""Snakemake entry point of the ``train`` rule: unpack the job, hand it to algorithms.run_job."""

import logging
from pathlib import Path

from algorithms.run_job import TrainingJob, run_training_job


def main(snakemake) -> None:
    logging.basicConfig(filename=snakemake.log[0], level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    log = logging.getLogger(f"train.{snakemake.wildcards.method}.{snakemake.wildcards.seed}")
    job = TrainingJob(method=snakemake.wildcards.method, seed=int(snakemake.wildcards.seed),
                      **snakemake.params.settings)
    workers = snakemake.params.num_workers or snakemake.threads
    try:
        run_training_job(job, Path(snakemake.output.evaluation).parent, Path("checkpoints"), workers, log)
    except BaseException:
        log.exception("training job failed")
        raise


if __name__ == "__main__":  # spawned sampler workers re-import this file as __mp_main__
    main(globals()["snakemake"])
