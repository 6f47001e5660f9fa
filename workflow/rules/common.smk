# The study's plan: the config validated (study.config) and turned into jobs (study.plan), each with the
# folder its settings hash names. Runs at parse time on the submit host and again inside every cluster
# job (where it must, and is checked to, give the same run ids): cheap, no side effects.
from envs.sampler import ParallelSampler
from study.config import validate_study
from study.plan import plan_study, unused_overrides

CONFIG_SOURCE = ", ".join(map(str, workflow.overwrite_configfiles or workflow.configfiles)) or "config"
config.update(validate_study(dict(config), CONFIG_SOURCE))  # fills the schema's defaults
PLAN = plan_study(config, CONFIG_SOURCE)
if unused_overrides(config):
    logger.warning(f"overrides for methods outside this study are not used: {unused_overrides(config)}")


def sampler_cpus():
    """CPUs a training job uses: its sampler workers (at most pipeline_groups), + 1 for the main process
    when it acts (sampler.acting: main); acting in the workers, it needs no core of its own."""
    sampler = config["sampler"]
    requested = sampler["num_workers"] or sampler["pipeline_groups"]
    return ParallelSampler.cpus_used(requested, sampler["max_slots"], sampler["pipeline_groups"], sampler["acting"])


wildcard_constraints:
    method="|".join(sorted(PLAN.methods)),
    seed=r"\d+",
    run_id=r"[0-9a-f]{12}",
