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
from tests.test_readme import run_readme_ray_job

pytestmark = pytest.mark.slow
TEXT_PIPELINE = "pipeline=[decode,extract,repair,boilerplate,normalise,dedupe,languages,node]"
TRANSLATE_PIPELINE = "pipeline=[decode,extract,repair,boilerplate,normalise,dedupe,languages,translate,node]"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'tamis[ray]')")
    from ray.cluster_utils import Cluster

    # Worker processes inherit this environment: the test plugin (the `node` stage) must reach them, and no
    # translation model of this machine's (Argos's default directory, or its settings) may.
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(PLUGIN_DIR), os.environ.get("PYTHONPATH")) if p))
        env.setenv("XDG_DATA_HOME", str(home))
        env.setenv("XDG_CONFIG_HOME", str(home))
        env.delenv("ARGOS_PACKAGES_DIR", raising=False)
        # Two CPUs a node: a pool of two actors, spread over the nodes, leaves CPUs to Ray Data's read tasks.
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False})
        cluster.add_node(num_cpus=2)
        cluster.wait_for_nodes()
        try:
            yield cluster
        finally:
            cluster.shutdown()


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models directory with a tiny real de → fr package, readable at the same path on both nodes."""
    pytest.importorskip("ctranslate2")
    from stages.translate import models
    from tests import tinymodels

    root = tmp_path_factory.mktemp("models")
    models.install(tinymodels.build_package(tmp_path_factory.mktemp("build"), "de", "fr", seed=8), directory=root)
    return root


def _env(cluster: Any, **extra: str) -> dict[str, str]:
    return {"PYTHONPATH": os.environ["PYTHONPATH"], "RAY_ADDRESS": cluster.address, **extra}


def test_cli_on_two_nodes_matches_the_local_runner(cluster: Any, tmp_path: Path) -> None:
    common = ("--set", TEXT_PIPELINE, "--set", "run.batch_size=1")
    local = tamis("run", str(ARTICLES), "-o", str(tmp_path / "local.jsonl"), "--jobs", "1", *common,
                  env=_env(cluster))
    assert local.returncode == 0, local.stderr.decode()
    ray = tamis("run", str(ARTICLES), "-o", str(tmp_path / "ray.jsonl"), "--executor", "ray", "--jobs", "2",
                *common, env=_env(cluster), timeout=600)
    assert ray.returncode == 0, ray.stderr.decode()

    nodes = {node.node_id for node in cluster.list_all_nodes()}
    distributed = jsonl(tmp_path / "ray.jsonl")
    assert {r["extra"].pop("node") for r in distributed} == nodes  # both nodes processed documents
    expected = jsonl(tmp_path / "local.jsonl")
    assert {r["extra"].pop("node") for r in expected} == {"local"}
    assert distributed == expected


def test_cli_shards_on_two_nodes_hold_the_local_records(cluster: Any, tmp_path: Path) -> None:
    """`-o out/`: Ray Data reads, both nodes' actors clean, and the shards hold the local runner's records."""
    # A second a document (the `slow` stage), and Ray Data's own knobs: dispatch only once the whole pool is
    # up, and one task at a time per actor. Then a busy actor takes no second document while the other idles:
    # without them, the actor beside the read tasks' blocks (Ray Data prefers it) could take all five.
    common = ("--set", TEXT_PIPELINE.replace("node]", "node,slow]"), "--set", "slow.seconds=1",
              "--set", "run.batch_size=1")
    local = tamis("run", str(ARTICLES), "-o", str(tmp_path / "local.jsonl"), "--jobs", "1", *common,
                  env=_env(cluster))
    assert local.returncode == 0, local.stderr.decode()
    one_at_a_time = {"RAY_DATA_DEFAULT_WAIT_FOR_MIN_ACTORS_S": "300",
                     "RAY_DATA_ACTOR_DEFAULT_MAX_TASKS_IN_FLIGHT_TO_MAX_CONCURRENCY_FACTOR": "1"}
    ray = tamis("run", str(ARTICLES), "-o", f"{tmp_path / 'shards'}/", "--executor", "ray", "--jobs", "2", *common,
                env=_env(cluster, **one_at_a_time), timeout=600)
    assert ray.returncode == 0, ray.stderr.decode()

    distributed = sorted((r for p in (tmp_path / "shards").glob("part-*.jsonl") for r in jsonl(p)),
                         key=lambda r: r["id"])
    assert {r["extra"].pop("node") for r in distributed} == {n.node_id for n in cluster.list_all_nodes()}
    expected = jsonl(tmp_path / "local.jsonl")
    for record in expected:
        record["extra"].pop("node")
    assert distributed == expected
    assert json.loads((tmp_path / "shards" / "stats.json").read_text())["documents"] == len(expected)


def _translated(records: list[dict[str, Any]]) -> list[str]:
    """The packages that translated segments of `records`."""
    return [seg["translation"]["package"] for r in records for b in r["blocks"] for seg in b["segments"]
            if (seg.get("translation") or {}).get("status") == "ok"]


def test_the_readme_job_runs_unchanged_on_two_nodes(cluster: Any, tmp_path: Path) -> None:
    """The README's Ray job, pointed at the cluster by `RAY_ADDRESS` alone, writes what the local runner gives."""
    table = run_readme_ray_job(tmp_path, cluster.address)
    local = tamis("run", str(tmp_path / "articles"), "-o", str(tmp_path / "local.jsonl"), "--jobs", "1",
                  "--set", "pipeline=[decode,extract,repair,boilerplate,normalise,dedupe,languages]")
    assert local.returncode == 0, local.stderr.decode()
    expected = {r["id"]: (r["lang"], r["text"]) for r in jsonl(tmp_path / "local.jsonl") if r["status"] == "ok"}
    rows = table.to_pylist()
    assert {r["id"]: (r["lang"], r["text"]) for r in rows} == expected
    assert len(rows) == len(expected) == 5


def test_models_reach_both_nodes_through_a_shared_path(cluster: Any, models_dir: Path, tmp_path: Path) -> None:
    """`translate.models_dir` names a path both nodes read: every actor translates as the local run does."""
    common = ("--set", TRANSLATE_PIPELINE, "--set", "languages.duplicates=false", "--set", "run.batch_size=1",
              "--set", f"translate.models_dir={models_dir}")
    local = tamis("run", str(ARTICLES), "-o", str(tmp_path / "local.jsonl"), "--jobs", "1", *common,
                  env=_env(cluster))
    assert local.returncode == 0, local.stderr.decode()
    ray = tamis("run", str(ARTICLES), "-o", str(tmp_path / "ray.jsonl"), "--executor", "ray", "--jobs", "2",
                *common, env=_env(cluster), timeout=600)
    assert ray.returncode == 0, ray.stderr.decode()

    distributed, expected = jsonl(tmp_path / "ray.jsonl"), jsonl(tmp_path / "local.jsonl")
    assert {r["extra"].pop("node") for r in distributed} == {n.node_id for n in cluster.list_all_nodes()}
    for record in expected:
        record["extra"].pop("node")
    assert _translated(expected) == ["de_fr@1.0"]  # seed 003's German standfirst
    assert distributed == expected


def test_models_reach_the_actors_through_runtime_env(cluster: Any, models_dir: Path, tmp_path: Path) -> None:
    """A job that sends `ARGOS_PACKAGES_DIR` to its workers with `runtime_env`: the driver has no models, the
    actors on both nodes find them, and the records are those of a local run with the models."""
    overrides = [TRANSLATE_PIPELINE, "languages.duplicates=false", "run.batch_size=1", "run.jobs=2",
                 f"run.output={tmp_path / 'ray.jsonl'}"]
    script = textwrap.dedent(f"""
        import ray
        from pipeline import config, ray_executor
        ray.init(address={cluster.address!r}, runtime_env={{"env_vars": {{"ARGOS_PACKAGES_DIR": {str(models_dir)!r}}}}})
        ray_executor.run(config.load(None, {overrides!r}), [{str(ARTICLES)!r}])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=ROOT, timeout=600, check=False)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    local = tamis("run", str(ARTICLES), "-o", str(tmp_path / "local.jsonl"), "--jobs", "1",
                  "--set", TRANSLATE_PIPELINE, "--set", "languages.duplicates=false", "--set", "run.batch_size=1",
                  env=_env(cluster, ARGOS_PACKAGES_DIR=str(models_dir)))
    assert local.returncode == 0, local.stderr.decode()

    distributed, expected = jsonl(tmp_path / "ray.jsonl"), jsonl(tmp_path / "local.jsonl")
    assert {r["extra"].pop("node") for r in distributed} == {n.node_id for n in cluster.list_all_nodes()}
    for record in expected:
        record["extra"].pop("node")
    assert _translated(distributed) == ["de_fr@1.0"]
    assert distributed == expected


def test_an_actor_without_the_drivers_models_stops_the_run_naming_the_path(cluster: Any, models_dir: Path,
                                                                         tmp_path: Path) -> None:
    """The driver finds the models through its own `ARGOS_PACKAGES_DIR`, which the workers do not have: each
    actor looks in Argos's default directory, finds no package, and the run stops before any record with
    a message naming both directories (exit 2), instead of leaving the German untranslated."""
    ray = tamis("run", str(ARTICLES), "-o", str(tmp_path / "ray.jsonl"), "--executor", "ray", "--jobs", "2",
                "--set", TRANSLATE_PIPELINE, env=_env(cluster, ARGOS_PACKAGES_DIR=str(models_dir)), timeout=600)
    message = ray.stderr.decode()
    assert ray.returncode == 2, message[-3000:]
    default = Path(os.environ["XDG_DATA_HOME"]) / "argos-translate" / "packages"
    assert "translate: on Ray node " in message
    assert f"the models directory {default} lacks de_fr@1.0, which the driver has (the models directory " \
        f"{models_dir})" in message
    assert not (tmp_path / "ray.jsonl").exists()


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

