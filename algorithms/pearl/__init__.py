"""PEARL: probabilistic context encoder + SAC (Rakelly et al. 2019), the baseline of the HiMeta paper."""
