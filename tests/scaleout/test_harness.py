"""The scale-out harness itself (root only, a few seconds): hosts are isolated and nothing outlives the run."""

from __future__ import annotations

import pytest

from tests.scaleout.harness import Cluster, can_run, run

WHY_NOT = can_run()
pytestmark = pytest.mark.skipif(bool(WHY_NOT), reason=f"the scale-out harness {WHY_NOT}")


def leftovers(cluster: Cluster) -> list[str]:
    namespaces = run("ip", "netns", "list").stdout
    links = run("ip", "-o", "link", "show").stdout
    found = [h.netns for h in cluster.hosts.values() if h.netns in namespaces]
    found += [cluster.bridge] if f" {cluster.bridge}:" in links else []
    return found + ([str(cluster.root)] if cluster.root.exists() else [])


def test_a_host_sees_neither_another_hosts_disk_nor_this_machines_loopback():
    with Cluster(["a", "b"]) as cluster:
        (cluster.hosts["b"].home / "only-b-has-this").write_text("b")
        probe = ("import os, socket, sys\n"
                 "try:\n    socket.create_connection(('127.0.0.1', 5432), timeout=2).close(); db = 'reached'\n"
                 "except OSError:\n    db = 'unreachable'\n"
                 "print(socket.gethostname(), os.listdir(sys.argv[1]), os.getcwd() == os.environ['HOME'], db)")
        seen = cluster.hosts["a"].run(["python", "-c", probe, str(cluster.hosts["b"].dir)])
        assert seen.split() == ["a", "[]", "True", "unreachable"]


def test_losing_a_host_kills_its_processes_and_the_run_leaves_nothing_behind():
    with pytest.raises(RuntimeError, match="the test failed here"), Cluster(["a", "b"]) as cluster:
        sleeper = cluster.hosts["a"].spawn("sleeper", ["sleep", "600"])
        other = cluster.hosts["b"].spawn("other", ["sleep", "600"])
        killed = cluster.hosts["a"].kill_all()
        assert sleeper.pid in killed and sleeper.poll() is not None
        assert not cluster.hosts["a"].pids() and cluster.hosts["b"].pids()
        raise RuntimeError("the test failed here")
    assert leftovers(cluster) == []
    assert other.poll() is not None
