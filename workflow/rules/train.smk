# Training: one job per (method, seed). Checkpoints live under checkpoints/ (never a declared output),
# so a rerun after a kill, timeout or preemption resumes where the job stopped.


rule train:
    output:
        evaluation="results/runs/{method}/seed_{seed}/eval.csv",
        episodes="results/runs/{method}/seed_{seed}/eval_episodes.csv",
        train_log="results/runs/{method}/seed_{seed}/train_log.csv",
        manifest="results/runs/{method}/seed_{seed}/manifest.json",
    params:
        settings=training_job_settings,
        num_workers=config["sampler"]["num_workers"],
    log:
        "logs/train/{method}/seed_{seed}.log",
    threads: workflow.cores
    script:
        "../scripts/train.py"
