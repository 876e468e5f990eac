"""gridgis/localdb.py: where the local cluster lives, so that `make test` and `make demo` work from any folder.

The decision is tested here on a made-up file system; scripts/check_private_clone.sh (run by .ci/run)
runs both commands for real from a clone in a mode-700 temporary folder.
"""

import os
from pathlib import Path

from gridgis import localdb

POSTGRES = (110, {118})  # the service user's uid and groups on this made-up machine


def fake_stat(modes: dict[str, tuple[int, int, int]]):
    """os.stat over a made-up tree: path -> (owner uid, group gid, mode)."""

    def stat(path):
        uid, gid, mode = modes[str(path)]
        return os.stat_result((mode, 0, 0, 0, uid, gid, 0, 0, 0, 0))

    return stat


HOME = {
    "/": (0, 0, 0o755),
    "/home": (0, 0, 0o755),
    "/home/ann": (1000, 1000, 0o700),  # a private home folder
    "/home/ann/gridgis": (1000, 1000, 0o755),
    "/srv": (0, 0, 0o755),
    "/srv/gridgis": (0, 0, 0o755),
    "/srv/team": (0, 118, 0o750),  # only the owner and the group may enter
    "/srv/team/gridgis": (0, 0, 0o755),
    "/srv/mine": (110, 0, 0o700),  # the service user's own folder
    "/srv/mine/gridgis": (0, 0, 0o755),
}


def test_searchable_by_reads_the_owner_group_or_other_bit_of_every_folder_up_to_the_root():
    stat = fake_stat(HOME)
    assert localdb.searchable_by(Path("/srv/gridgis"), *POSTGRES, stat=stat)
    assert not localdb.searchable_by(Path("/home/ann/gridgis"), *POSTGRES, stat=stat)  # blocked above
    assert localdb.searchable_by(Path("/home/ann/gridgis"), 1000, {1000}, stat=stat)  # ann's own folder
    assert localdb.searchable_by(Path("/srv/team/gridgis"), *POSTGRES, stat=stat)  # by the group bit
    assert not localdb.searchable_by(Path("/srv/team/gridgis"), 110, {200}, stat=stat)
    assert localdb.searchable_by(Path("/srv/mine/gridgis"), *POSTGRES, stat=stat)  # by the owner bit
    assert not localdb.searchable_by(Path("/srv/mine/gridgis"), 111, {118}, stat=stat)


def test_the_cluster_moves_to_the_system_folder_only_when_the_service_user_cannot_reach_the_checkout(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(localdb, "SYSTEM_ROOT", tmp_path / "system")
    reachable = {Path("/srv/gridgis")}
    monkeypatch.setattr(localdb, "searchable_by", lambda path, uid, gids: path in reachable)

    # Not root: the caller runs the cluster itself, always in the checkout.
    assert localdb.cluster_root(Path("/home/ann/gridgis"), None) == Path("/home/ann/gridgis/var/pg")
    # Root, and the service user can reach the checkout: in the checkout too.
    assert localdb.cluster_root(Path("/srv/gridgis"), POSTGRES) == Path("/srv/gridgis/var/pg")
    # Root, a private checkout: a folder of its own in the system location, named by the checkout.
    private = localdb.cluster_root(Path("/home/ann/gridgis"), POSTGRES)
    assert private.parent == tmp_path / "system"
    assert private.name.startswith("gridgis-") and private == localdb.cluster_root(Path("/home/ann/gridgis"), POSTGRES)
    # Two private checkouts of the same name do not share a cluster.
    assert localdb.cluster_root(Path("/home/bob/gridgis"), POSTGRES) != private

    # A cluster already made in the system folder stays in use after the checkout becomes reachable.
    (private / "data").mkdir(parents=True)
    (private / "data" / "PG_VERSION").write_text("15\n")
    reachable.add(Path("/home/ann/gridgis"))
    assert localdb.cluster_root(Path("/home/ann/gridgis"), POSTGRES) == private

    # The three-node cluster (gridgis.cluster) follows the same rule, in folders of its own.
    nodes = localdb.cluster_root(Path("/home/bob/gridgis"), POSTGRES, folder="cluster", made="etcd")
    assert nodes.parent == tmp_path / "system" and nodes.name.endswith("-cluster")
    assert nodes != localdb.cluster_root(Path("/home/bob/gridgis"), POSTGRES)
    assert localdb.cluster_root(Path("/srv/gridgis"), POSTGRES, folder="cluster", made="etcd") == Path(
        "/srv/gridgis/var/cluster"
    )


def test_a_dead_server_this_process_started_does_not_count_as_running():
    import subprocess
    import sys
    import time

    from gridgis import cluster

    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert cluster._alive(server.pid)
        server.kill()
        time.sleep(0.2)  # dead and not yet reaped: a zombie, which kill(pid, 0) still finds
        assert not cluster._alive(server.pid)
    finally:
        server.kill()
    assert cluster._alive(1)  # not this process's child: asked with kill(pid, 0) alone
