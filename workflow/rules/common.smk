# Study-wide helpers: method files, per-job config slices, wildcard constraints.
# Runs at parse time on the submit host and again inside every cluster job: cheap, no side effects.

from algorithms.registry import METHODS_DIR, method_from_values, read_method_file


def _deep_merge(base, changes, where):
    merged = dict(base)
    for key, value in changes.items():
        if key not in base:
            raise ValueError(
                f"overrides.{where}: {key!r} is not a setting of this method (known: {sorted(base)})"
            )
        if isinstance(value, dict) and isinstance(base[key], dict):
            merged[key] = _deep_merge(base[key], value, f"{where}.{key}")
        else:
            merged[key] = value
    return merged


def _study_methods():
    """Every study method's validated values (method file + this study's overrides)."""
    unknown = sorted(set(config.get("overrides", {})) - set(config["methods"]))
    if unknown:
        raise ValueError(f"config overrides name methods that are not in the study: {unknown}")
    methods = {}
    for name in config["methods"]:
        path = METHODS_DIR / f"{name}.yaml"
        values = _deep_merge(read_method_file(path), config.get("overrides", {}).get(name, {}), name)
        method_from_values(name, values, f"{path} (+ overrides.{name})")  # raises on a bad setting
        methods[name] = values
    return methods


METHODS = _study_methods()


def training_job_settings(wildcards):
    """The one slice of the config a training job depends on (edits elsewhere do not rerun it)."""
    return {
        "method_values": METHODS[wildcards.method],
        "benchmark_seed": config["benchmark_seed"],
        "episode_length": config["episode_length"],
        "training": config["training"],
        "evaluation": config["evaluation"],
        "sampler": {key: config["sampler"][key] for key in ("max_slots", "pipeline_groups")},
        "device": config["device"],
        "learner_threads": config["learner_threads"],
    }


def run_files(method, seed):
    return {name: f"results/runs/{method}/seed_{seed}/{name}"
            for name in ("eval.csv", "eval_episodes.csv", "train_log.csv", "manifest.json")}


wildcard_constraints:
    method="|".join(sorted(METHODS)),
    seed=r"\d+",
