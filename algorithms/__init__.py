"""Agents of the harness. Every agent acts through :class:`envs.policy.RolloutPolicy`."""
