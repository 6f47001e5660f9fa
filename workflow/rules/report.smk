# The study's report: the paper's Tables 1, 2, 5 and Figure 4 with the paper's numbers beside ours, IQM
# with stratified-bootstrap intervals, probability of improvement, and reports/{study}/summary.md.
# The code is the analysis package; the file names come from analysis.report.REPORT_FILES.
import re
from pathlib import Path

from analysis.report import REPORT_FILES

REPORT_RUN_FILES = ["eval.csv", "train_log.csv", "manifest.json"]
REPORT_PAPER_DIR = Path(str(workflow.current_basedir)).resolve().parents[1] / "reports" / "paper"  # repo's, not --directory's
REPORT_PAPER_VALUES = sorted(str(path) for path in REPORT_PAPER_DIR.glob("*.csv"))


rule report:
    input:
        runs=expand("results/runs/{method}/seed_{seed}/{name}", method=config["methods"],
                    seed=config["seeds"], name=REPORT_RUN_FILES),
        chance=expand("results/random/seed_{seed}/eval.csv", seed=config["seeds"]),
        paper=REPORT_PAPER_VALUES,
    output:
        expand("reports/{{study}}/{name}", name=REPORT_FILES),
    params:
        methods=config["methods"],
        seeds=config["seeds"],
        report=config["report"],
        paper_dir=str(REPORT_PAPER_DIR),
    log:
        "logs/report/{study}.log",
    wildcard_constraints:
        study=re.escape(config["study"]),
    localrule: True
    script:
        "../scripts/report.py"
