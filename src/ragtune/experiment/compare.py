"""The side-by-side run, with training-seed repeats for the fine-tuned arms.

A bootstrap over questions alone hides training noise; ``seeds > 1`` retrains the
adapters with other seeds, re-evaluates the fine-tuned arms on the same questions,
records the per-seed spread (``run.arms["ft"].seeds``) and replaces the arm's primary
accuracy with the mean over seeds and an interval from a bootstrap over questions *and*
seeds. Paired comparisons stay those of the first seed. The project's own adapters are
restored afterwards::

    run, path = compare(project, arms=["base", "rag", "ft"], seeds=3)
    run.arms["ft"].seeds   # SeedSpread(seeds=[0, 1, 2], values=[...], mean=.., std=..)
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.evaluate.aggregate import seed_spread
from ragtune.evaluate.bootstrap import bootstrap_over_seeds
from ragtune.evaluate.metrics import PRIMARY_METRIC
from ragtune.evaluate.records import EvalRun, write_run
from ragtune.evaluate.results import Interval, SeedSpread
from ragtune.evaluate.runner import evaluate
from ragtune.experiment.refresh import (
    modes_for,
    reload_generator,
    train_adapter,
    training_available,
)
from ragtune.progress import Progress
from ragtune.registry import arms as registered_arms

if TYPE_CHECKING:
    from ragtune.project import Project


def compare(
    project: Project,
    arms: Sequence[str] | None = None,
    qa_path: Path | str | None = None,
    max_questions: int | None = None,
    seeds: int | None = None,
    progress: Progress | None = None,
    train_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[EvalRun, Path | None]:
    """``evaluate`` every arm; with ``seeds > 1`` also the spread of fine-tuned arms over
    training seeds (each retraining uses ``train_overrides[mode]``, as the first did)."""
    progress = progress or Progress()
    seeds = seeds or project.config.eval.seeds
    run, path = evaluate(
        project, arms, qa_path=qa_path, max_questions=max_questions, progress=progress
    )
    if seeds <= 1:
        return run, path
    tuned = [a for a in run.ok_arms if registered_arms.get(a).fine_tuned]
    reason = (
        training_available()
        if tuned
        else "no fine-tuned arm ran, so there is no training to repeat"
    )
    if reason:
        run.notes.append(f"--seeds {seeds} not applied: {reason}")
        return run, write_run(project.runs_dir, run)
    base_seed = project.config.tune.seed
    values: dict[str, dict[int, float]] = {a: {base_seed: _accuracy(run, a)} for a in tuned}
    scores = {a: {base_seed: _scores(run, a)} for a in tuned}
    modes = modes_for(tuned)
    with tempfile.TemporaryDirectory(prefix="ragtune-adapters-") as backup:
        for mode in modes:
            shutil.copytree(project.adapters_dir / mode, Path(backup) / mode)
        try:
            for offset in range(1, seeds):
                seed = base_seed + offset
                for mode in modes:
                    progress.log(f"Seed {seed}: retraining {mode!r}")
                    overrides = dict((train_overrides or {}).get(mode, {}))
                    train_adapter(project, mode, progress, **{**overrides, "seed": seed})
                reload_generator(project)
                # A repeat measures accuracy only: latency is the first seed's probe.
                repeat, _ = evaluate(
                    project,
                    tuned,
                    qa_path=qa_path,
                    max_questions=max_questions,
                    progress=progress,
                    write=False,
                    latency_probe=0,
                )
                for arm in tuned:
                    values[arm][seed] = _accuracy(repeat, arm)
                    scores[arm][seed] = _scores(repeat, arm)
        finally:
            for mode in modes:
                shutil.rmtree(project.adapters_dir / mode, ignore_errors=True)
                shutil.copytree(Path(backup) / mode, project.adapters_dir / mode)
            reload_generator(project)
    samples, bootstrap_seed = project.config.eval.bootstrap_samples, project.config.eval.seed
    for arm in tuned:
        run.arms[arm].seeds = SeedSpread.model_validate(seed_spread(values[arm]))
        qids = sorted(scores[arm][base_seed])
        table = [[by_qid.get(q, 0.0) for q in qids] for by_qid in scores[arm].values()]
        run.arms[arm].accuracy[PRIMARY_METRIC] = Interval.model_validate(
            bootstrap_over_seeds(table, samples, bootstrap_seed).to_dict()
        )
    run.notes.append(
        f"fine-tuned arms repeated over {seeds} training seeds: their {PRIMARY_METRIC} accuracy "
        "is the mean over seeds with a bootstrap over questions and seeds; per-seed values in "
        "arms.<arm>.seeds; paired comparisons and latency are those of the first seed"
    )
    return run, write_run(project.runs_dir, run)


def _scores(run: EvalRun, arm: str) -> dict[str, float]:
    """The primary score of each question ``arm`` answered in ``run``, by question id."""
    return {
        str(r["qid"]): float((r.get("scores") or {}).get(PRIMARY_METRIC) or 0.0)
        for r in run.arm_records(arm)
    }


def _accuracy(run: EvalRun, arm: str) -> float:
    interval = run.arms[arm].accuracy.get(PRIMARY_METRIC) or Interval(mean=0.0, low=0.0, high=0.0)
    return interval.mean
