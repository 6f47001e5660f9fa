# Chance-level reference: the uniform random policy through the shared sampler and evaluation, under the
# study's evaluation protocol, in results/random/{protocol id}/seed_{seed}/ (studies with other
# evaluation settings get another protocol id, so none overwrites another's reference).
from dataclasses import asdict

from study.jobs import CHANCE_FILES

CHANCE_PROTOCOL = next(iter(PLAN.chance.values())).protocol_id
CHANCE_SUMMARY = f"reports/{PLAN.study}/chance_summary.csv"  # this study's seeds only


def chance_job(wildcards):
    job = PLAN.chance.get(int(wildcards.seed))
    if job is None or job.protocol_id != wildcards.protocol:
        raise ValueError(f"results/random/{wildcards.protocol}/seed_{wildcards.seed} is not the chance "
                         f"reference of study {PLAN.study!r}; its protocol id is {CHANCE_PROTOCOL}")
    return job


rule evaluate_random:
    output:
        **{name.split(".")[0]: f"results/random/{{protocol}}/seed_{{seed}}/{name}" for name in CHANCE_FILES},
    params:
        job=lambda wildcards: asdict(chance_job(wildcards)),
        num_workers=config["sampler"]["num_workers"],
        acting=config["sampler"]["acting"],
    log:
        "logs/random/{protocol}/seed_{seed}.log",
    wildcard_constraints:
        protocol=r"[0-9a-f]{12}",
    threads: sampler_cpus()
    resources:
        cpus_per_task=sampler_cpus(),
    script:
        "../scripts/evaluate_random.py"


rule summarise_random:
    input:
        [str(job.run_dir() / "eval.csv") for job in PLAN.chance.values()],
    output:
        CHANCE_SUMMARY,
    log:
        f"logs/random/{PLAN.study}_summary.log",
    localrule: True
    script:
        "../scripts/summarise_random.py"


# MetaWorld's own evaluation of every trained run (metaworld.evaluation; envs/metaworld_evaluation.py):
# results/runs/{method}/seed_{seed}/{run id}/metaworld_{scoring id}.csv, from the run's final checkpoint.
METAWORLD = config["metaworld_evaluation"]
METAWORLD_SCORES = ({cell: str(job.metaworld_scores(METAWORLD)) for cell, job in PLAN.training.items()}
                    if METAWORLD["enabled"] else {})


rule evaluate_metaworld:
    input:
        "results/runs/{method}/seed_{seed}/{run_id}/eval.csv",
    output:
        "results/runs/{method}/seed_{seed}/{run_id}/metaworld_{scoring}.csv",
    params:
        job=lambda wildcards: asdict(training_job(wildcards)),
        settings=METAWORLD,
    log:
        "logs/metaworld/{method}/seed_{seed}/{run_id}_{scoring}.log",
    wildcard_constraints:
        scoring=r"[0-9a-f]{12}",
    threads: 1
    resources:
        cpus_per_task=1,
    script:
        "../scripts/evaluate_metaworld.py"
