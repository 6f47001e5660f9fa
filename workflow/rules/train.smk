# Training: one job per (method, seed) in results/runs/{method}/seed_{seed}/{run id}/, the run id being
# the hash of the job's settings. Checkpoints, the run lock and the append-only log live outside the
# declared outputs (checkpoints/, logs/), so a rerun after a kill, timeout or preemption resumes.
from dataclasses import asdict

from study.jobs import RUN_FILES


def training_job(wildcards):
    """The plan's job for this output; refuses a run id the study does not plan."""
    job = PLAN.training.get((wildcards.method, int(wildcards.seed)))
    if job is None or job.run_id != wildcards.run_id:
        raise ValueError(
            f"results/runs/{wildcards.method}/seed_{wildcards.seed}/{wildcards.run_id} is not a run of "
            f"study {PLAN.study!r} ({CONFIG_SOURCE}); its run of this cell is "
            f"{job.run_id if job else 'none'}"
        )
    return job


rule train:
    output:
        **{name.split(".")[0]: f"results/runs/{{method}}/seed_{{seed}}/{{run_id}}/{name}" for name in RUN_FILES},
    params:
        job=lambda wildcards: asdict(training_job(wildcards)),
        num_workers=config["sampler"]["num_workers"],
        acting=config["sampler"]["acting"],
    threads: sampler_cpus()
    resources:
        cpus_per_task=sampler_cpus(),  # the SLURM request, independent of the submit host's --cores
    script:
        "../scripts/train.py"
