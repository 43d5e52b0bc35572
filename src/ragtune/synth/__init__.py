"""Training data from documents: QA pairs, paraphrases, RAFT examples, split by fact.

Sources: the user's corpus (pairs written by the configured generator, unsupported
answers filtered out), a user's QA file (JSONL/CSV, :func:`load_qa_file`), or the demo
domain's ``qa.jsonl``. Everything lands in ``.ragtune/data/`` under fixed names
(:mod:`ragtune.synth.files`)::

    from ragtune import Project
    from ragtune.synth import synthesize, load_qa_file

    project = Project.open("acme-kb")
    manifest = synthesize(project, source="qa-file", path="ours.csv", paraphrases=4, seed=0)
    manifest.counts.train      # SynthCounts; also read as the JSON's {"train": ..., "raft": ...}
    rows = load_qa_file("ours.csv")   # list[QAExample]; a bad row raises DataError file:line

Importing this package does not import torch.
"""

from __future__ import annotations

from ragtune.synth.pipeline import SynthCounts, SynthManifest, synthesize
from ragtune.synth.qa_file import load_qa_file
from ragtune.synth.split import UNSEEN_FACT, UNSEEN_PHRASING, Split, split_by_fact

__all__ = [
    "UNSEEN_FACT",
    "UNSEEN_PHRASING",
    "Split",
    "SynthCounts",
    "SynthManifest",
    "load_qa_file",
    "split_by_fact",
    "synthesize",
]
