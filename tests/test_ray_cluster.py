"""The Ray executor on a real cluster of two nodes started on this machine, and on a small local instance.

`ray.cluster_utils.Cluster` starts a head node and a worker node as separate processes (each with its own
raylet and object store) and tears down only those at the end, unlike `ray stop`, which would end every Ray
process of the machine. The CLI connects to it through `RAY_ADDRESS`, as a user's job would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTICLES, PLUGIN_DIR, ROOT, jsonl, tamis

pytestmark = pytest.mark.slow
TEXT_PIPELINE = "pipeline=[decode,extract,repair,boilerplate,normalise,dedupe,languages,node]"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'tamis[ray]')")
    from ray.cluster_utils import Cluster

    # Worker processes inherit this environment: the test plugin (the `node` stage) must reach them.
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(PLUGIN_DIR), saved) if p)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        yield cluster
    finally:
        cluster.shutdown()
        if saved is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = saved


def test_cli_on_two_nodes_matches_the_local_runner(cluster: Any, tmp_path: Path) -> None:
    # Ray Data's own knob: dispatch only once the whole pool is up, so the first actor to start cannot
    # take every document of so small an input and leave the other node idle.
    env = {"PYTHONPATH": os.environ["PYTHONPATH"], "RAY_ADDRESS": cluster.address,
           "RAY_DATA_DEFAULT_WAIT_FOR_MIN_ACTORS_S": "300"}
    common = ("--set", TEXT_PIPELINE, "--set", "run.batch_size=1")
    local = tamis("run", str(ARTICLES), "-o", str(tmp_path / "local.jsonl"), "--jobs", "1", *common, env=env)
    assert local.returncode == 0, local.stderr.decode()
    ray = tamis("run", str(ARTICLES), "-o", str(tmp_path / "ray.jsonl"), "--executor", "ray", "--jobs", "2",
                *common, env=env, timeout=600)
    assert ray.returncode == 0, ray.stderr.decode()

    nodes = {node.node_id for node in cluster.list_all_nodes()}
    distributed = jsonl(tmp_path / "ray.jsonl")
    assert {r["extra"].pop("node") for r in distributed} == nodes  # both nodes processed documents
    expected = jsonl(tmp_path / "local.jsonl")
    assert {r["extra"].pop("node") for r in expected} == {"local"}
    assert distributed == expected


def test_map_dataset_with_every_cpu_does_not_starve_the_reads(tmp_path: Path) -> None:
    """`run.jobs: 0` on a 2-CPU instance: the actor pool leaves a CPU to `read_json`'s tasks. Before, the
    pool took both CPUs and the run waited forever; a subprocess with a time limit shows it."""
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'tamis[ray]')")
    for part in range(3):
        lines = (json.dumps({"id": f"{part}-{p.name}", "text": p.read_text(encoding="utf-8")}, ensure_ascii=False)
                 for p in sorted(ARTICLES.iterdir()))
        (tmp_path / f"part{part}.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    script = textwrap.dedent(f"""
        import ray, ray.data
        from pipeline import config
        from pipeline.ray_executor import map_dataset
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        cfg = config.load({str(ROOT / "config.yaml")!r}, ["pipeline=[decode,extract,repair,boilerplate]"])
        rows = map_dataset(ray.data.read_json({str(tmp_path)!r}), cfg).take_all()
        print(sorted(r["status"] for r in rows).count("ok"), len(rows))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.decode().split() == ["15", "15"]

