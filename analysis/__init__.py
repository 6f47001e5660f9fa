"""Analysis of a study's per-run outputs: the paper's Tables 1, 2, 5 and Figure 4, robust statistics
(IQM with stratified-bootstrap intervals, probability of improvement) and a one-page summary.

Entry points: :func:`analysis.report.build_report` (everything, as the ``report`` rule calls it) and
``python -m analysis`` (the same from the command line, e.g. for a partial report while runs go on).
"""
