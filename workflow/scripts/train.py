"""Snakemake entry point of the ``train`` rule: rebuild the job, check its run id, hand it to run_job.

The job writes its own append-only log, ``logs/train/{method}/seed_{seed}/{run id}.log``. It exits with
status 75 (resumable) when it stopped early with a checkpoint, so Snakemake's retries (or a rerun)
resume it.
"""

import sys
from pathlib import Path

from algorithms.run_job import RESUMABLE_EXIT, run_training_job
from algorithms.stopping import TrainingStopped
from envs.sampler import available_cores
from study.jobs import TrainingJob


def main(snakemake) -> None:
    job = TrainingJob(**snakemake.params.job)
    if job.run_id != snakemake.wildcards.run_id:  # the config this job parsed is not the driver's
        raise RuntimeError(f"this job's settings hash to run {job.run_id}, but Snakemake asked for run "
                           f"{snakemake.wildcards.run_id}: the job sees another config than the driver")
    workers = snakemake.params.num_workers or min(snakemake.threads, available_cores())
    try:
        run_training_job(job, Path("results"), Path("checkpoints"), Path("logs"), workers,
                         acting=snakemake.params.acting)
    except TrainingStopped as stopped:
        print(f"{stopped}; checkpoint written, rerun to resume", file=sys.stderr)
        sys.exit(RESUMABLE_EXIT)


if __name__ == "__main__":  # spawned sampler workers re-import this file as __mp_main__
    main(globals()["snakemake"])
