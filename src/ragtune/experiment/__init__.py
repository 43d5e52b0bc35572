"""Experiments over the arms: the freshness test, the recommendation, the demo run.

    from ragtune.experiment import run_freshness, recommend, run_demo
    run, path = run_freshness(project, "corpus-v2")
    choice = recommend([eval_run, run], constraints)

Modules: ``changes`` (changed facts as questions), ``refresh`` (re-synthesis and
retraining, timed), ``freshness`` (the test), ``costs`` (projected total cost per arm),
``recommend`` (the rules), ``demo`` (the end-to-end demo).
"""

from __future__ import annotations
