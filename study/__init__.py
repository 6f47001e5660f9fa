"""A study as the workflow and ``python -m analysis`` both see it: the config, validated, and its plan.

:mod:`study.config` reads and validates a study config (YAML errors with file and line, the JSON
schema with its defaults, every method file plus the study's overrides through the method's strict
loader); :mod:`study.plan` turns it into the training and chance-reference jobs, each with the folder
its settings hash names.
"""
