"""Pieces shared by the methods: network builders and PPO (HiMeta's low level and SD reuse it)."""
