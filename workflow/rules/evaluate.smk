# Chance-level reference: the uniform random policy through the shared sampler and evaluation.


rule evaluate_random:
    output:
        tasks="results/random/seed_{seed}/eval.csv",
        episodes="results/random/seed_{seed}/eval_episodes.csv",
    params:
        benchmark_seed=config["benchmark_seed"],
        episode_length=config["episode_length"],
        evaluation=config["evaluation"],
        sampler=config["sampler"],
    log:
        "logs/random/seed_{seed}.log",
    wildcard_constraints:
        seed=r"\d+",
    threads: workflow.cores
    script:
        "../scripts/evaluate_random.py"


rule summarise_random:
    input:
        expand("results/random/seed_{seed}/eval.csv", seed=config["seeds"]),
    output:
        "results/random/summary.csv",
    log:
        "logs/random/summary.log",
    localrule: True
    script:
        "../scripts/summarise_random.py"
