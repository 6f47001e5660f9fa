"""PEACH (McClinton, Levy, Konidaris): PEARL's context variable z on top of a HAC-style hierarchy.

Modules: ``config`` (hyper-parameters, strict loader), ``goals`` (subgoal space, attainment reward,
hindsight relabelling), ``replay`` (per-task episodes -> top-level and goal-conditioned transitions),
``policy`` (acting through the shared sampler), ``agent`` (networks, Algorithm 1's update,
checkpoints), ``method`` (the registry entry). docs/peach.md explains every choice.
"""
