"""Test doubles shipped with ragtune, registered through the same registry as real backends.

- ``hash`` embedder (:class:`HashEmbedder`): deterministic bag-of-hashed-words vectors;
  texts that share words are near each other, so retrieval tests mean something.
- ``overlap`` reranker (:class:`OverlapReranker`): scores by shared words.
- ``scripted`` generator (:class:`ScriptedGenerator`): canned or rule-based answers.

Use them by name in a config, like any backend::

    config = load_config(project_dir, overrides={"embed": {"backend": "hash"}})
"""

from __future__ import annotations
