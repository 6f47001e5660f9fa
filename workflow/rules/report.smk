# The study's report: the paper's Tables 1, 2, 5 and Figure 4 with the paper's numbers beside ours, IQM
# with stratified-bootstrap intervals, probability of improvement, and reports/{study}/summary.md.
# The code is the analysis package; the file names come from analysis.report.REPORT_FILES. It reads
# exactly the runs the plan names (run folder + settings hash), never "whatever is in results/".
import re
from pathlib import Path

from analysis.report import REPORT_FILES

REPORT_RUN_FILES = ["eval.csv", "train_log.csv", "manifest.json"]
REPORT_PAPER_DIR = Path(str(workflow.current_basedir)).resolve().parents[1] / "reports" / "paper"  # repo's, not --directory's
REPORT_PAPER_VALUES = sorted(str(path) for path in REPORT_PAPER_DIR.glob("*.csv"))
REPORT_SHOWN = {"figure4.png": "Figures", "iqm.png": "Figures", "probability_of_improvement.png": "Figures",
                "table1.csv": "Tables", "table2.csv": "Tables", "table5.csv": "Tables", "iqm.csv": "Tables",
                "probability_of_improvement.csv": "Tables"}
"""The files `snakemake --report report.html` shows, by category; captions in workflow/report/<stem>.rst."""


def marked_report_file(name):
    """A report output; wrapped in report() with its caption when `snakemake --report` shows it."""
    path = f"reports/{{study}}/{name}"
    if name not in REPORT_SHOWN:
        return path
    return report(path, caption=f"../report/{name.rsplit('.', 1)[0]}.rst", category=REPORT_SHOWN[name])


rule report:
    input:
        runs=[str(job.run_dir() / name) for job in PLAN.training.values() for name in REPORT_RUN_FILES],
        chance=[str(job.run_dir() / "eval.csv") for job in PLAN.chance.values()],
        metaworld=list(METAWORLD_SCORES.values()),
        paper=REPORT_PAPER_VALUES,
    output:
        [marked_report_file(name) for name in REPORT_FILES],
    params:
        methods=config["methods"],
        seeds=config["seeds"],
        report=config["report"],
        benchmark=config["benchmark"],
        runs=[{"method": method, "seed": seed, "path": str(job.run_dir()), "config_hash": job.config_hash,
               "metaworld": METAWORLD_SCORES.get((method, seed))}
              for (method, seed), job in PLAN.training.items()],
        chance={seed: str(job.run_dir()) for seed, job in PLAN.chance.items()},
        paper_dir=str(REPORT_PAPER_DIR),
    log:
        "logs/report/{study}.log",
    wildcard_constraints:
        study=re.escape(config["study"]),
    localrule: True
    script:
        "../scripts/report.py"
