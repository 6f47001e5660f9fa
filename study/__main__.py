"""``python -m study CONFIG``: validate a study config and print its plan, without running anything.

Checks exactly what the workflow checks (YAML syntax with file and line, the schema, the benchmark,
every method file plus overrides with their types), then lists every training job and chance reference
with its run folder and whether it is finished, resumable (a checkpoint exists) or new. ``make
reproduce`` runs it before Snakemake, because Snakemake's own YAML error names neither file nor line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from study.config import StudyConfigError, load_study_config
from study.plan import plan_study, unused_overrides


def _state(run_dir: Path, checkpoint: Path | None) -> str:
    if (run_dir / "eval.csv").exists():
        return "finished"
    if checkpoint is not None and checkpoint.exists():
        return "resumable"
    return "new"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m study", description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", default="config/config.yaml", help="study config file")
    args = parser.parse_args(argv)
    try:
        plan = plan_study(load_study_config(args.config), args.config)
    except StudyConfigError as error:
        print(f"invalid study config: {error}", file=sys.stderr)
        return 2
    config = plan.config
    print(f"study {plan.study!r} ({args.config}): benchmark {config['benchmark']}, "
          f"{len(plan.methods)} methods x {len(config['seeds'])} seeds, "
          f"{config['training']['iterations']} iterations")
    for (method, seed), job in plan.training.items():
        print(f"  train   {method:<12} seed {seed:<3} {job.run_dir()}  "
              f"[{_state(job.run_dir(), job.checkpoint())}]")
    if unused_overrides(config):
        print(f"  note: overrides for methods outside this study are not used: {unused_overrides(config)}")
    for seed, job in plan.chance.items():
        print(f"  chance  {'random':<12} seed {seed:<3} {job.run_dir()}  [{_state(job.run_dir(), None)}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
