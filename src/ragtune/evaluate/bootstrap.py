"""Bootstrap 95% intervals for a mean, and paired intervals for a difference between arms.

Every accuracy figure ragtune reports carries an interval; a difference between two
arms is *called* only when its paired interval excludes 0::

    >>> ci = bootstrap_mean([1, 0, 1, 1, 0, 1, 1, 1], samples=2000, seed=0)
    >>> ci.mean, ci.low <= ci.mean <= ci.high
    (0.75, True)
    >>> diff = paired_difference([1] * 40, [0] * 40, samples=500)
    >>> diff.called, diff.mean
    (True, 1.0)

Resampling indexes questions, so a paired difference keeps each question's two scores
together: arms answered the same questions and their errors are correlated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ragtune.types import _Serializable


@dataclass
class Interval(_Serializable):
    """A mean with its percentile-bootstrap interval (``level`` 0.95 by default)."""

    mean: float
    low: float
    high: float
    n: int = 0
    level: float = 0.95

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def format(self, digits: int = 2) -> str:
        """``"0.75 [0.50, 1.00]"``."""
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


@dataclass
class Difference(Interval):
    """A paired difference ``a - b`` with its interval; ``called`` when it excludes 0."""

    a: str = ""
    b: str = ""
    metric: str = ""

    @property
    def called(self) -> bool:
        return self.excludes_zero


def _resample_means(values: np.ndarray, samples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(values), size=(samples, len(values)))
    means: np.ndarray = values[index].mean(axis=1)
    return means


def _interval(
    values: Sequence[float], samples: int, seed: int, level: float
) -> tuple[float, float, float]:
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return 0.0, 0.0, 0.0
    mean = float(array.mean())
    if array.size == 1 or np.all(array == array[0]):
        return mean, mean, mean
    means = _resample_means(array, samples, seed)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return mean, float(low), float(high)


def bootstrap_mean(
    values: Sequence[float], samples: int = 1000, seed: int = 0, level: float = 0.95
) -> Interval:
    """The mean of ``values`` with a percentile-bootstrap interval over questions."""
    mean, low, high = _interval(values, samples, seed, level)
    return Interval(round(mean, 4), round(low, 4), round(high, 4), n=len(values), level=level)


def bootstrap_over_seeds(
    scores: Sequence[Sequence[float]], samples: int = 1000, seed: int = 0, level: float = 0.95
) -> Interval:
    """The mean of ``scores[seed][question]`` with an interval over questions *and* training
    seeds: each resample draws the questions and the seeds with replacement (a two-level
    bootstrap), so a fine-tuned arm whose accuracy moves with its seed gets a wider interval.

    >>> ci = bootstrap_over_seeds([[1, 1, 0, 1], [0, 1, 0, 1], [1, 1, 0, 0]], samples=500)
    >>> ci.mean, ci.n, ci.low <= ci.mean <= ci.high
    (0.5833, 4, True)
    """
    array = np.asarray(scores, dtype=float)
    if array.ndim != 2 or array.size == 0:
        raise ValueError("scores must be a non-empty seeds × questions table")
    mean = float(array.mean())
    runs, questions = array.shape
    if np.all(array == array.flat[0]):
        return Interval(round(mean, 4), round(mean, 4), round(mean, 4), n=questions, level=level)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, runs, size=(samples, runs))
    cols = rng.integers(0, questions, size=(samples, questions))
    means = np.array([array[r][:, c].mean() for r, c in zip(rows, cols, strict=True)])
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(round(mean, 4), round(float(low), 4), round(float(high), 4), questions, level)


def paired_difference(
    a: Sequence[float],
    b: Sequence[float],
    samples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    names: tuple[str, str] = ("a", "b"),
    metric: str = "",
) -> Difference:
    """``mean(a - b)`` with a paired-bootstrap interval; ``a`` and ``b`` score the same questions."""
    if len(a) != len(b):
        raise ValueError(f"paired difference needs equal lengths (got {len(a)} and {len(b)})")
    deltas = [x - y for x, y in zip(a, b, strict=True)]
    mean, low, high = _interval(deltas, samples, seed, level)
    return Difference(
        round(mean, 4),
        round(low, 4),
        round(high, 4),
        n=len(deltas),
        level=level,
        a=names[0],
        b=names[1],
        metric=metric,
    )
