"""``ragtune.tune.distributed``: the world read from the launcher's variables, threads
shared among processes, and the collectives, on 2 real gloo processes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ragtune.errors import ConfigError
from ragtune.tune.distributed import World, downgrade_note, gather_objects, require_agreement


def test_world_without_a_launcher_is_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    world = World.from_env()
    assert world == World(0, 0, 1, 1) and world.is_main and not world.launched
    assert world.threads_per_process(cores=8) == 8
    assert gather_objects({"a": 1}) == [{"a": 1}]
    require_agreement("x", "anything", "no hint needed")


def test_world_under_torchrun_shares_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    world = World.from_env()
    assert world == World(rank=3, local_rank=1, size=4, local_size=2)
    assert not world.is_main and world.launched
    assert world.threads_per_process(cores=2) == 1  # 2 processes on 2 cores: 1 thread each
    assert world.threads_per_process(cores=16) == 8
    assert World(size=4, local_size=4).threads_per_process(cores=2) == 1  # never 0


def test_downgrade_note_only_when_fsdp_was_asked_for_and_not_given() -> None:
    assert downgrade_note(False, "MULTI_CPU") is None
    assert downgrade_note(True, "FSDP") is None
    note = downgrade_note(True, "MULTI_CPU")
    assert note is not None and "FSDP" in note and "MULTI_CPU" in note


def _collectives(rank: int, port: int, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        lines = [f"gather {gather_objects({'rank': rank})}"]
        require_agreement("checkpoint-4", "the checkpoint", "hint")
        try:
            require_agreement(f"checkpoint-{rank}", "the checkpoint to resume from", "share it")
            lines.append("agreed")
        except ConfigError as exc:
            lines.append(f"error {exc}")
        Path(out, f"rank{rank}.txt").write_text("\n".join(lines))
    finally:
        dist.destroy_process_group()


@pytest.mark.integration
def test_collectives_on_two_gloo_processes(tmp_path: Path) -> None:
    mp = pytest.importorskip("torch.multiprocessing")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_collectives, args=(port, str(tmp_path)), nprocs=2, join=True)
    for rank in (0, 1):
        gathered, error = (tmp_path / f"rank{rank}.txt").read_text().splitlines()
        assert gathered == "gather [{'rank': 0}, {'rank': 1}]"
        # Every rank raises, naming each rank's view and the way out.
        assert error == (
            "error the training processes disagree on the checkpoint to resume from "
            "(rank 0: checkpoint-0, rank 1: checkpoint-1); share it"
        )
