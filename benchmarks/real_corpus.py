"""A real documentation corpus, in two releases, for benchmarking ``ragtune compare``.

The corpus is the Markdown documentation of **Hatch**, the Python project manager
(https://hatch.pypa.io, MIT licence, written by the PyPA / Hatch maintainers, not by
ragtune's authors), as shipped in the ``docs/`` folder of its PyPI sdists:

- v1: ``hatch==1.10.0`` (2024-05-02) -> ``<out>/v1/docs``: 70 ``.md`` files, ~280 KB
- v2: ``hatch==1.12.0`` (2024-05-28) -> ``<out>/v2/docs``: 72 ``.md`` files
  (15 changed, 2 added, 0 removed; the other 55 are byte-identical)

The changes are real upstream edits: a default flipped (the wheel builder's
``macos-max-compat``), matrix examples moved to newer Pythons, a context field
replaced (``{root:parent:uri}``), installer file names and a GitHub Action added to the
install page, two new pages on Python management, the changelog's two new releases.

Only files that ragtune's loaders read are kept (``.md .markdown .txt .html .htm .pdf
.docx .jsonl``) and nothing under a hidden folder (``docs/.snippets``, ``docs/.overrides``
are MkDocs build inputs, not pages). The pages are left as-is: they still hold MkDocs
syntax (admonitions, tabs, ``::: module.Class`` API directives) and a few build-time
placeholders such as ``<HATCH_LATEST_VERSION>``, as a team's own docs folder would.

Hand-written questions about v1 are in ``benchmarks/data/hatch_qa.jsonl`` (each answer a
short span found verbatim, case-insensitively, in the cited file) and questions whose
answer changed between v1 and v2 in ``benchmarks/data/hatch_changed_qa.jsonl``.

Run (downloads two ~5 MB sdists with pip; no build, no model)::

    python benchmarks/real_corpus.py                     # -> /tmp/ragtune-real/{v1,v2}/docs
    python benchmarks/real_corpus.py /some/dir           # another folder
    python benchmarks/real_corpus.py --check-qa          # also verify both QA files
    ragtune compare /tmp/ragtune-real/v1/docs --update /tmp/ragtune-real/v2/docs \\
        --qa benchmarks/data/hatch_qa.jsonl -p hatch-kb   # the benchmark itself
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

PACKAGE = "hatch"
VERSIONS = {"v1": "1.10.0", "v2": "1.12.0"}
# sha256 of the sdists on PyPI (files there never change; a mismatch means a different file).
SHA256 = {
    "1.10.0": "0d68a7d3efa225bedb7a8bb773a347fdc16d5e064aef5fb0411de57cc9abd08a",
    "1.12.0": "ae80478d10312df2b44d659c93bc2ed4d33aecddce4b76378231bdf81c8bf6ad",
}
LOADABLE = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx", ".jsonl"}
DEFAULT_OUT = Path("/tmp/ragtune-real")
DATA = Path(__file__).resolve().parent / "data"
QA_FILE = DATA / "hatch_qa.jsonl"
CHANGED_QA_FILE = DATA / "hatch_changed_qa.jsonl"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(version: str, cache: Path) -> Path:
    """The sdist of ``hatch==version`` in ``cache``, fetched with pip if not there yet."""
    cache.mkdir(parents=True, exist_ok=True)
    name = f"{PACKAGE}-{version}.tar.gz"
    sdist = cache / name
    if not (sdist.exists() and _sha256(sdist) == SHA256[version]):
        # --no-binary for hatch only: its build backend may come as a wheel, so pip's
        # metadata step builds nothing from source but hatch's own sdist metadata.
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-binary",
            PACKAGE,
            f"{PACKAGE}=={version}",
            "-d",
            str(cache),
        ]
        subprocess.run(cmd, check=True)
    if not sdist.exists():
        raise SystemExit(f"pip did not leave {name} in {cache}")
    got = _sha256(sdist)
    if got != SHA256[version]:
        raise SystemExit(f"{sdist}: sha256 {got}, expected {SHA256[version]}")
    return sdist


def _docs_relative(member: str, version: str) -> PurePosixPath | None:
    """``member``'s path under the sdist's ``docs/`` when it is a page to keep, else None."""
    parts = PurePosixPath(member).parts
    if len(parts) < 3 or parts[0] != f"{PACKAGE}-{version}" or parts[1] != "docs":
        return None
    rel = PurePosixPath(*parts[2:])
    if any(p.startswith(".") or p == ".." for p in rel.parts):  # hidden folders, no escapes
        return None
    return rel if rel.suffix.lower() in LOADABLE else None


def extract_docs(sdist: Path, version: str, dest: Path) -> int:
    """Write the sdist's loadable docs pages under ``dest`` (emptied first); their count."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    count = 0
    with tarfile.open(sdist, "r:gz") as tar:
        for member in tar:
            rel = _docs_relative(member.name, version)
            if rel is None or not member.isfile():
                continue
            target = dest.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None
            target.write_bytes(src.read())
            count += 1
    return count


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def compare(v1: Path, v2: Path) -> dict[str, list[str]]:
    a, b = _files(v1), _files(v2)
    return {
        "added": sorted(set(b) - set(a)),
        "removed": sorted(set(a) - set(b)),
        "changed": sorted(k for k in set(a) & set(b) if a[k] != b[k]),
        "unchanged": sorted(k for k in set(a) & set(b) if a[k] == b[k]),
    }


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: {exc}") from exc
    return rows


def _text(root: Path, doc_id: str) -> str | None:
    path = root / doc_id
    return path.read_text(encoding="utf-8").lower() if path.is_file() else None


def check_qa(out: Path) -> bool:
    """Every gold answer appears (case-insensitively) in its cited file; True if all do."""
    v1, v2 = out / "v1" / "docs", out / "v2" / "docs"
    problems: list[str] = []
    notes: list[str] = []

    qa = _read_jsonl(QA_FILE)
    ids = [row.get("id") for row in qa]
    if len(set(ids)) != len(ids):
        problems.append(f"{QA_FILE.name}: duplicate ids")
    for row in qa:
        qid = row.get("id")
        if not (row.get("question") and row.get("answers") and row.get("doc_ids")):
            problems.append(f"{qid}: needs question, answers and doc_ids")
            continue
        texts = [_text(v1, d) for d in row["doc_ids"]]
        for doc_id, text in zip(row["doc_ids"], texts, strict=True):
            if text is None:
                problems.append(f"{qid}: no file v1/docs/{doc_id}")
        found = [t for t in texts if t is not None]
        for answer in row["answers"]:
            if not any(answer.lower() in t for t in found):
                problems.append(f"{qid}: answer {answer!r} not in {row['doc_ids']}")
    files = {d for row in qa for d in row.get("doc_ids", [])}

    changed = _read_jsonl(CHANGED_QA_FILE)
    for row in changed:
        qid = row.get("id")
        if not (
            row.get("question")
            and row.get("old_answers")
            and row.get("new_answers")
            and row.get("doc_ids")
        ):
            problems.append(f"{qid}: needs question, old_answers, new_answers and doc_ids")
            continue
        for doc_id in row["doc_ids"]:
            old, new = _text(v1, doc_id), _text(v2, doc_id)
            if old is None or new is None:
                problems.append(f"{qid}: {doc_id} missing in v1 or v2")
                continue
            for answer in row["old_answers"]:
                if answer.lower() not in old:
                    problems.append(f"{qid}: old answer {answer!r} not in v1/docs/{doc_id}")
                if answer.lower() in new:
                    notes.append(f"{qid}: old answer {answer!r} also occurs in v2/docs/{doc_id}")
            for answer in row["new_answers"]:
                if answer.lower() not in new:
                    problems.append(f"{qid}: new answer {answer!r} not in v2/docs/{doc_id}")
                if answer.lower() in old:
                    notes.append(f"{qid}: new answer {answer!r} also occurs in v1/docs/{doc_id}")

    print(f"{QA_FILE.name}: {len(qa)} questions over {len(files)} files")
    print(f"{CHANGED_QA_FILE.name}: {len(changed)} changed-answer questions")
    for note in notes:
        print(f"  note: {note}")
    for problem in problems:
        print(f"  FAIL: {problem}")
    print("check-qa:", "all answers found" if not problems else f"{len(problems)} problem(s)")
    return not problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "out",
        nargs="?",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder for v1/docs, v2/docs and the sdists (default {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--check-qa",
        action="store_true",
        help="after fetching, verify every QA answer against its cited file",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()

    counts = {}
    for label, version in VERSIONS.items():
        sdist = download(version, out / "sdist")
        counts[label] = extract_docs(sdist, version, out / label / "docs")
    diff = compare(out / "v1" / "docs", out / "v2" / "docs")

    if args.json:
        print(
            json.dumps(
                {
                    "corpus": PACKAGE,
                    "versions": VERSIONS,
                    "out": str(out),
                    "files": counts,
                    **{k: v for k, v in diff.items() if k != "unchanged"},
                    "unchanged": len(diff["unchanged"]),
                },
                indent=2,
            )
        )
    else:
        for label, version in VERSIONS.items():
            print(f"{label}: {PACKAGE} {version}: {counts[label]} files in {out / label / 'docs'}")
        print(
            f"v1 -> v2: {len(diff['changed'])} changed, {len(diff['added'])} added, "
            f"{len(diff['removed'])} removed, {len(diff['unchanged'])} unchanged"
        )
        for kind in ("changed", "added", "removed"):
            for rel in diff[kind]:
                print(f"  {kind:8s} {rel}")
    if args.check_qa:
        return 0 if check_qa(out) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
