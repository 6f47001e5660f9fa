"""SD: subtask decomposition (SDVT without virtual training), on the shared sampler, PPO and trainer."""
