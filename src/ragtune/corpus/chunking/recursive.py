"""Token-aware recursive chunking that respects headings, paragraphs and sentences.

The text is cut into *atoms* at every boundary, each boundary ranked by strength:
heading > blank line > newline > sentence end (> space, only inside a sentence longer
than a chunk). Tokens are counted once per document (or once per atom for a plain
counting function), so chunking stays linear in the text. Atoms are then packed
greedily; when the next atom does not fit, the chunk ends at the strongest boundary
that leaves it at least half full (a heading boundary always wins), and the next
chunk starts with about ``chunk_overlap_tokens`` of the previous chunk's tail.
Overlap never crosses a heading: a chunk that starts a section starts at its heading.

    >>> from ragtune.types import Document
    >>> doc = Document(id="x200.md", text="# X200 Router\\n\\n## Warranty\\n\\nTwo years.")
    >>> [c.heading_path for c in RecursiveChunker(64, 8).split(doc)]
    [['X200 Router', 'Warranty']]
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ragtune.corpus.chunking.base import Chunker
from ragtune.corpus.chunking.headings import Heading, find_headings
from ragtune.corpus.tokens import TokenCounter, WordTokenCounter, make_token_counter
from ragtune.errors import ConfigError
from ragtune.types import Chunk, Document

if TYPE_CHECKING:
    from ragtune.config import CorpusConfig

__all__ = ["RecursiveChunker"]

HEADING, PARAGRAPH, LINE, SENTENCE, WORD = range(5)
_EPS = 1e-6

_NEWLINE_RUN = re.compile(r"\n(?:[ \t]*\n)*")
# The lookbehinds start a match only at the start of a punctuation run: linear time.
_SENTENCE_END = re.compile(
    r"(?:(?<![.!?…])[.!?…]+[\"'”’)\]]*[ \t]+|(?<![。！？])[。！？]+[\"'”’」』)\]]*)(?=\S)"
)
_SPACE_RUN = re.compile(r"\s+")
#: The default hard cap on a chunk's whitespace-free run, in characters per token of size.
CHARS_PER_TOKEN_CAP = 16
_NON_SPACE_RUN = re.compile(r"\S+")


class RecursiveChunker(Chunker):
    """Split documents into chunks of at most ``chunk_size_tokens`` tokens.

    ``count_tokens`` is any ``str -> int`` function; default: the fast word
    approximation (``make_token_counter("words")``). A whitespace-free run longer than
    ``max_chunk_chars`` (default ``CHARS_PER_TOKEN_CAP * chunk_size_tokens``) is cut
    every ``max_chunk_chars`` characters, each piece a chunk of its own: a 5 MB line
    with no spaces is never one 5 MB chunk, whatever the token counter says.

    >>> chunker = RecursiveChunker(chunk_size_tokens=256, chunk_overlap_tokens=32)
    >>> chunker.split(Document(id="a.txt", text="Hello there."))[0].text
    'Hello there.'
    """

    #: A cut at a boundary weaker than a heading must leave the chunk this full.
    min_fill: float = 0.5

    def __init__(
        self,
        chunk_size_tokens: int = 256,
        chunk_overlap_tokens: int = 32,
        count_tokens: Callable[[str], int] | None = None,
        max_chunk_chars: int | None = None,
    ) -> None:
        if chunk_size_tokens < 1:
            raise ConfigError(f"chunk_size_tokens must be >= 1 (got {chunk_size_tokens})")
        if not 0 <= chunk_overlap_tokens < chunk_size_tokens:
            raise ConfigError(
                f"chunk_overlap_tokens must be >= 0 and smaller than chunk_size_tokens "
                f"({chunk_size_tokens}) (got {chunk_overlap_tokens})"
            )
        if max_chunk_chars is not None and max_chunk_chars < 1:
            raise ConfigError(f"max_chunk_chars must be >= 1 (got {max_chunk_chars})")
        self.chunk_size_tokens = chunk_size_tokens
        self.chunk_overlap_tokens = chunk_overlap_tokens
        self.count_tokens: Callable[[str], int] = count_tokens or WordTokenCounter()
        self.max_chunk_chars = max_chunk_chars or CHARS_PER_TOKEN_CAP * chunk_size_tokens

    @classmethod
    def from_config(
        cls, config: CorpusConfig, count_tokens: Callable[[str], int] | None = None
    ) -> RecursiveChunker:
        """Build from ``config.corpus``. Pass ``count_tokens`` when the config's
        tokenizer is ``'embedder'`` (the caller knows the embedder's tokenizer)."""
        if count_tokens is None:
            count_tokens = make_token_counter(config.tokenizer)
        return cls(config.chunk_size_tokens, config.chunk_overlap_tokens, count_tokens)

    def __repr__(self) -> str:
        return (
            f"RecursiveChunker(chunk_size_tokens={self.chunk_size_tokens}, "
            f"chunk_overlap_tokens={self.chunk_overlap_tokens}, count_tokens={self.count_tokens!r})"
        )

    def split(self, doc: Document) -> list[Chunk]:
        text = doc.text
        if not text.strip():
            return []
        headings = find_headings(text)
        plan = _Plan(text, self, headings)
        heading_starts = [h.start for h in headings]
        heading_ends = {h.start: h.end for h in headings}
        chunks: list[Chunk] = []
        for start, end in plan.spans():
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if start == end:
                continue
            at = bisect_right(heading_starts, _first_content(text, start, end, heading_ends)) - 1
            index = len(chunks)
            chunks.append(
                Chunk(
                    id=f"{doc.id}::{index}",
                    doc_id=doc.id,
                    text=text[start:end],
                    index=index,
                    start_char=start,
                    end_char=end,
                    source=doc.source,
                    title=doc.title,
                    heading_path=list(headings[at].path) if at >= 0 else [],
                    meta=copy.deepcopy(doc.meta),
                )
            )
        return chunks


def _first_content(text: str, start: int, end: int, heading_ends: dict[int, int]) -> int:
    """Where the chunk's own content starts, past any heading lines that open it.

    A chunk opening with ``# Guide\\n\\n## Warranty\\n\\nTwo years`` is about the
    warranty: its heading path is taken there, ``["Guide", "Warranty"]``.
    """
    position = start
    while position in heading_ends:
        position = heading_ends[position]
        while position < end and text[position].isspace():
            position += 1
    return min(position, max(start, end - 1))


class _Plan:
    """Atoms of one document and the packing of them into chunk spans."""

    def __init__(self, text: str, chunker: RecursiveChunker, headings: Sequence[Heading]) -> None:
        self.text = text
        self.size = chunker.chunk_size_tokens
        self.overlap = chunker.chunk_overlap_tokens
        self.min_fill = chunker.min_fill
        self.count = chunker.count_tokens
        self.max_chars = chunker.max_chunk_chars
        self.long_run = re.compile(rf"\S{{{self.max_chars + 1},}}")
        self.token_starts: Sequence[int] | None = None
        self.weight = 1.0
        if isinstance(self.count, TokenCounter):
            try:
                self.token_starts = self.count.token_starts(text)
                self.weight = self.count.weight
            except NotImplementedError:
                self.token_starts = None
        heading_lines: set[int] = set()
        boundaries: dict[int, int] = {}
        for match in _NEWLINE_RUN.finditer(text):
            end = match.end()
            if end < len(text):
                boundaries[end] = PARAGRAPH if match.group().count("\n") > 1 else LINE
        for match in _SENTENCE_END.finditer(text):
            boundaries.setdefault(match.end(), SENTENCE)
        for heading in headings:
            boundaries[heading.start] = HEADING
            heading_lines.add(heading.start)
            for p in range(heading.start + 1, heading.end):
                if boundaries.get(p) == SENTENCE:  # "# Dr. Who" is one atom
                    del boundaries[p]
                elif p in boundaries:  # a setext underline
                    heading_lines.add(p)
        boundaries.pop(0, None)
        positions = [0, *sorted(boundaries)]
        self.starts = positions
        self.ends = [*positions[1:], len(text)]
        self.strength = [HEADING, *(boundaries[p] for p in positions[1:])]
        self.is_heading = [p in heading_lines for p in positions]
        self.tokens = self._count_atoms(self.starts, self.ends)
        self._split_oversized()

    # -- counting ---------------------------------------------------------------
    def _count_atoms(self, starts: Sequence[int], ends: Sequence[int]) -> list[float]:
        if self.token_starts is not None:
            ts, w = self.token_starts, self.weight
            return [
                (bisect_left(ts, e) - bisect_left(ts, s)) * w
                for s, e in zip(starts, ends, strict=True)
            ]
        return [float(self.count(self.text[s:e])) for s, e in zip(starts, ends, strict=True)]

    def _span_tokens(self, start: int, end: int) -> float:
        if self.token_starts is not None:
            ts = self.token_starts
            return (bisect_left(ts, end) - bisect_left(ts, start)) * self.weight
        return float(self.count(self.text[start:end]))

    def _oversized(self, i: int) -> bool:
        """Atom ``i`` has more tokens than a chunk, or a word longer than the char cap."""
        s, e = self.starts[i], self.ends[i]
        if self.tokens[i] > self.size + _EPS:
            return True
        return e - s > self.max_chars and self.long_run.search(self.text, s, e) is not None

    def _split_oversized(self) -> None:
        """Cut atoms longer than a chunk at spaces, and words longer than the char cap
        every ``max_chars``: only a single word of at most ``max_chars`` can be too long."""
        oversized = [self._oversized(i) for i in range(len(self.starts))]
        if not any(oversized):
            return
        starts: list[int] = []
        strength: list[int] = []
        heading: list[bool] = []
        tokens: list[float] = []
        for i, (s, e) in enumerate(zip(self.starts, self.ends, strict=True)):
            if not oversized[i]:
                starts.append(s)
                strength.append(self.strength[i])
                heading.append(self.is_heading[i])
                tokens.append(self.tokens[i])
                continue
            cuts = [s] + [m.end() for m in _SPACE_RUN.finditer(self.text, s, e) if s < m.end() < e]
            piece_ends = [*cuts[1:], e]
            hard: set[int] = set()
            for piece_start, piece_end in zip(cuts, piece_ends, strict=True):
                if piece_end - piece_start > self.max_chars:
                    hard.update(range(piece_start, piece_end, self.max_chars))
            if hard:
                cuts = sorted(set(cuts) | hard)
                piece_ends = [*cuts[1:], e]
            starts.extend(cuts)
            strength.extend([self.strength[i]] + [WORD] * (len(cuts) - 1))
            heading.extend([self.is_heading[i]] * len(cuts))
            counted = self._count_atoms(cuts, piece_ends)
            # A piece of a hard-cut word fills a chunk on its own, whatever it counts as.
            tokens.extend(
                max(n, float(self.size)) if c in hard or (c + self.max_chars) in hard else n
                for c, n in zip(cuts, counted, strict=True)
            )
        self.starts, self.strength, self.is_heading, self.tokens = starts, strength, heading, tokens
        self.ends = [*starts[1:], len(self.text)]

    # -- packing ----------------------------------------------------------------
    def spans(self) -> list[tuple[int, int]]:
        """(start_char, end_char) of every chunk, before whitespace trimming."""
        n, size = len(self.starts), self.size
        tokens = self.tokens
        spans: list[tuple[int, int]] = []
        i = 0
        carry_start: int | None = None
        carry_tokens = 0.0
        while i < n:
            if carry_start is not None and carry_tokens + tokens[i] > size + _EPS:
                carry_start, carry_tokens = None, 0.0
            budget = size - carry_tokens
            total, j = 0.0, i
            while j < n and (j == i or total + tokens[j] <= budget + _EPS):
                total += tokens[j]
                j += 1
            k = n if j >= n else self._best_cut(i, j, carry_tokens)
            spans.append((self.starts[i] if carry_start is None else carry_start, self.ends[k - 1]))
            if k >= n:
                break
            carry_start, carry_tokens = self._overlap(i, k)
            i = k
        return spans

    def _best_cut(self, i: int, j: int, carry_tokens: float) -> int:
        """Cut before atom k (i < k <= j): strongest boundary, latest among equals."""
        best, best_key = j, 1_000
        fill = carry_tokens
        has_content = False
        for k in range(i + 1, j + 1):
            fill += self.tokens[k - 1]
            has_content = has_content or (not self.is_heading[k - 1] and self.tokens[k - 1] > 0)
            strength = self.strength[k]
            if not has_content or self.is_heading[k - 1]:
                key = 99  # never end a chunk on a heading, or with nothing but headings
            elif strength == HEADING:
                key = HEADING
            elif fill >= self.min_fill * self.size:
                key = strength
            else:
                key = strength + 10
            if key <= best_key:
                best, best_key = k, key
        return best

    def _overlap(self, i: int, k: int) -> tuple[int | None, float]:
        """Start and size of the tail of atoms i..k-1 carried into the next chunk."""
        if self.overlap == 0 or self.strength[k] == HEADING:
            return None, 0.0
        want = float(self.overlap)
        acc, m = 0.0, k
        # Whole atoms first, never all of them: the next chunk must start later.
        while m - 1 > i and acc + self.tokens[m - 1] <= want + _EPS:
            acc += self.tokens[m - 1]
            m -= 1
            if self.strength[m] == HEADING:
                return (self.starts[m], acc) if m < k else (None, 0.0)
        start = self.starts[m] if m < k else None
        if acc < want / 2 and m > i and not self.is_heading[m - 1]:
            partial = self._partial_tail(m - 1, want - acc)
            if partial is not None:
                pos, extra = partial
                start, acc = pos, acc + extra
        return (start, acc) if start is not None else (None, 0.0)

    def _partial_tail(self, atom: int, need: float) -> tuple[int, float] | None:
        """The longest word-aligned suffix of ``atom`` with at most ``need`` tokens."""
        s, e = self.starts[atom], self.ends[atom]
        words = [m.start() for m in _NON_SPACE_RUN.finditer(self.text, s, e)][1:]
        lo, hi, found = 0, len(words) - 1, None
        while lo <= hi:  # suffix token count falls as the start moves right
            mid = (lo + hi) // 2
            count = self._span_tokens(words[mid], e)
            if count <= need + _EPS:
                found, hi = (words[mid], count), mid - 1
            else:
                lo = mid + 1
        return found if found is not None and found[1] > 0 else None
