"""Snakemake entry point: evaluate the uniform random policy for one run seed (thin wrapper)."""

import logging
import time

from algorithms.uniform_random import UniformRandomPolicy
from envs.benchmarks import build_suite
from envs.evaluation import EvaluationConfig, evaluate
from envs.io import write_csv_atomic
from envs.sampler import ParallelSampler, available_cores
from envs.schedule import TaskSchedule
from study.jobs import ChanceJob


def main(snakemake) -> None:
    logging.basicConfig(filename=snakemake.log[0], level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    log = logging.getLogger("evaluate_random")
    job = ChanceJob(**snakemake.params.job)
    start = time.perf_counter()
    suite = build_suite(job.benchmark, benchmark_seed=job.benchmark_seed, episode_length=job.episode_length)
    schedule = TaskSchedule(suite, run_seed=job.seed, episodes_per_task=1, task_sampling=job.task_sampling)
    config = EvaluationConfig(**job.evaluation)
    workers = snakemake.params.num_workers or min(snakemake.threads, available_cores())
    log.info("%s(seed=%d) ready in %.1f s; evaluating with %d workers, acting in the %s",
             suite.name, job.benchmark_seed, time.perf_counter() - start, workers, snakemake.params.acting)
    with ParallelSampler(suite, num_workers=workers, max_slots=job.sampler["max_slots"],
                         pipeline_groups=job.sampler["pipeline_groups"], acting=snakemake.params.acting) as sampler:
        result = evaluate(UniformRandomPolicy(suite.spec, job.seed), sampler, schedule, config,
                          iteration=0, env_steps=0, wall_time=time.perf_counter() - start)
    steps = len(result.episodes) * suite.spec.episode_length
    elapsed = time.perf_counter() - start
    log.info("evaluated %d episodes (%d env steps) in %.1f s", len(result.episodes), steps, elapsed)
    for row in result.tasks.to_dict("records"):
        log.info("%-5s %-24s avg_success %.3f success %.3f return %8.2f", row["split"], row["task"],
                 row["avg_success"], row["success"], row["return"])
    write_csv_atomic(result.episodes.assign(seed=job.seed), snakemake.output.eval_episodes)
    write_csv_atomic(result.tasks.assign(seed=job.seed), snakemake.output.eval)


if __name__ == "__main__":  # spawned sampler workers re-import this file as __mp_main__
    main(globals()["snakemake"])
