# The study DAG. Run from the repository root:
#   snakemake --cores all                                                (quick study, this machine)
#   snakemake --cores all --profile slurm --configfile config/paper.yaml   (paper budget, SLURM)
# The config given with --configfile is the whole config; config/config.yaml is read only when none is
# given. train (method x seed) -> results/runs/{method}/seed_{seed}/{run id}/; chance-level reference ->
# results/random/{protocol id}/; report -> reports/{study}/. See README.md and docs/workflow.md.
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


if not workflow.overwrite_configfiles:
    configfile: str(Path(workflow.basedir) / "config" / "config.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        expand("reports/{study}/{name}", study=config["study"], name=REPORT_FILES),
        CHANCE_SUMMARY,
    default_target: True
