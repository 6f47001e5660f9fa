# The study DAG. Run from the repository root:
#   snakemake --cores all                                                (quick study, this machine)
#   snakemake --cores all --profile slurm --configfile config/paper.yaml   (paper budget, SLURM)
# train (method x seed) -> results/runs/; chance-level reference -> results/random/;
# report -> reports/{study}/ (tables, figures, summary.md). See README.md and docs/workflow.md.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        expand("reports/{study}/{name}", study=config["study"], name=REPORT_FILES),
        "results/random/summary.csv",
    default_target: True
