# The study DAG. Run from the repository root:  snakemake --cores all
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/evaluate.smk"


rule all:
    input:
        "results/random/summary.csv",
