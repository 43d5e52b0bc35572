"""Training sets for the three modes, in the formats TRL's ``SFTTrainer`` trains best on.

- ``qa`` / ``raft``: the chat rows of ``.ragtune/data/qa_sft.jsonl`` / ``raft_train.jsonl``
  become *conversational prompt-completion* rows (prompt = every turn before the last,
  completion = the assistant's answer). TRL then renders the prompt with the chat
  template and ``add_generation_prompt=True`` — byte for byte what the arm sends at
  inference — and puts the loss on the completion only.
- ``continued``: the indexed documents' text, as language-modelling rows (loss on all).

>>> split_prompt_completion({"messages": [{"role": "user", "content": "Hi?"},
...                                       {"role": "assistant", "content": "Hello."}]})
{'prompt': [{'role': 'user', 'content': 'Hi?'}], 'completion': [{'role': 'assistant', 'content': 'Hello.'}]}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ragtune.errors import DataError
from ragtune.jsonl import read_jsonl_objects
from ragtune.synth import files
from ragtune.types import QAExample

if TYPE_CHECKING:
    from ragtune.project import Project

Mode = Literal["qa", "raft", "continued"]
MODES: tuple[str, ...] = ("qa", "raft", "continued")
MODE_FILES = {"qa": files.QA_SFT, "raft": files.RAFT_TRAIN}


@dataclass
class TrainingData:
    """Rows ready for ``datasets.Dataset.from_list`` plus where they came from."""

    mode: str
    rows: list[dict[str, Any]]
    source: str
    data_manifest: dict[str, Any]

    @property
    def kind(self) -> str:
        return "language-modeling" if self.mode == "continued" else "prompt-completion"

    @classmethod
    def from_examples(cls, examples: Sequence[QAExample], source: str = "given") -> TrainingData:
        """Closed-book ``qa`` rows for ``examples``, in the very prompt the ``ft`` arm asks
        with (:func:`ragtune.synth.files.qa_chat_row`)."""
        if not examples:
            raise DataError("no examples to train on")
        rows = [split_prompt_completion(files.qa_chat_row(e)) for e in examples]
        return cls("qa", rows, source, {"source": source, "examples": len(rows)})


def split_prompt_completion(row: dict[str, Any]) -> dict[str, Any]:
    """A ``{"messages": [...]}`` row as ``{"prompt": [...], "completion": [last turn]}``."""
    messages = row.get("messages")
    if (
        not isinstance(messages, list)
        or len(messages) < 2
        or messages[-1].get("role") != "assistant"
    ):
        raise DataError("a chat row needs 'messages' ending with an assistant turn")
    return {"prompt": messages[:-1], "completion": messages[-1:]}


def _read_chat_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise DataError(
            f"{path}: no such file; run: ragtune synth (RAFT rows also need an index: ragtune ingest)"
        )
    rows = []
    for number, row in read_jsonl_objects(path):
        try:
            rows.append(split_prompt_completion(row))
        except (DataError, AttributeError) as exc:
            raise DataError(f"{path}:{number}: {exc}") from exc
    if not rows:
        raise DataError(f"{path}: no rows; run: ragtune synth")
    return rows


def load_training_data(project: Project, mode: str) -> TrainingData:
    """The rows for ``mode`` from a project (see the module docstring)."""
    if mode not in MODES:
        raise DataError(f"unknown tuning mode {mode!r}; choose one of: {', '.join(MODES)}")
    if mode == "continued":
        documents = project.require_index().iter_documents()
        rows = [{"text": d.text} for d in documents if d.text.strip()]
        if not rows:
            raise DataError("no document text to train on; run: ragtune ingest PATH")
        store_stats = {"documents": len(rows), "characters": sum(len(r["text"]) for r in rows)}
        return TrainingData(mode, rows, str(project.store_dir), {"source": "index", **store_stats})
    path = project.data_dir / MODE_FILES[mode]
    rows = _read_chat_rows(path)
    try:
        manifest = files.read_manifest(project.data_dir)
    except DataError:
        manifest = {}
    return TrainingData(mode, rows, str(path), manifest)
