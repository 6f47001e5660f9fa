"""HiMeta (Cho & Sun): three-level hierarchical meta-RL. See docs/himeta.md for every paper/code choice."""
