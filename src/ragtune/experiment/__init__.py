"""Experiments over the arms: the freshness test, costs and the recommendation.

    from ragtune.experiment.freshness import run_freshness
    from ragtune.experiment.recommend import recommend
    run, path = run_freshness(project, "corpus-v2")
    rec = recommend(eval_run, run, project.config.recommend)

Modules: ``changes`` (changed facts as questions), ``refresh`` (re-synthesis and
retraining, timed), ``freshness`` (the test), ``costs`` (projected total cost per arm),
``recommend`` (the rules), ``compare`` (evaluation with training-seed repeats). The
demo's end-to-end run is :mod:`ragtune.demo.runner`; the report, which reads what these
write, is :mod:`ragtune.report` (it imports nothing from here).
"""

from __future__ import annotations
