"""Hosts as Linux network namespaces on a bridge private to the test, and the shared services bound to the bridge.

    with Cluster(["web", "gpu-a", "gpu-b", "publish"]) as cluster:
        cluster.start_services()                  # PostgreSQL, Redis, an S3 server, the X sandbox on the bridge
        cluster.hosts["gpu-a"].spawn([...], env)  # a process inside gpu-a, in gpu-a's own empty directory
        cluster.hosts["gpu-a"].kill_all()         # host loss

Each host is a network namespace (only its loopback and one veth on the bridge), its own hostname (a UTS
namespace: worker ids are `hostname:pid`, as on real machines) and its own directory for HOME, TMPDIR, the working
directory and MEDIA_ROOT. Every process of a host runs in a mount namespace where the other hosts' directories and
the services' data directories are covered by an empty read-only tmpfs: a host cannot read another host's disk.
The services run on this machine, listening on the bridge address only (never 127.0.0.1, where this machine's
shared PostgreSQL and Redis live). Everything is torn down on exit, on failure and on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PREFIX = "ccso"  # every namespace and bridge this harness makes starts with it (stale ones are swept at start)


def run(*argv: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=timeout)


def can_run() -> str:
    """Empty when this machine can run the scenario, else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, a bridge and mounts)"
    if not shutil.which("ip") or not shutil.which("unshare"):
        return "needs `ip` (iproute2) and `unshare` (util-linux)"
    if not shutil.which("redis-server") or not postgres_bin():
        return "needs redis-server and PostgreSQL's initdb/pg_ctl (Debian: /usr/lib/postgresql/*/bin)"
    probe = f"{PREFIX}probe{os.getpid()}"
    if run("ip", "netns", "add", probe, check=False).returncode != 0:
        return "cannot create network namespaces here (`ip netns add` failed)"
    run("ip", "netns", "del", probe, check=False)
    return ""


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                   if p.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else None


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def wait_for_port(address: str, port: int, proc: subprocess.Popen | None = None, timeout: float = 60,
                  log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}: {tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing answered on {address}:{port} within {timeout}s: {tail(log)}")


def tail(path: Path | None, chars: int = 3000) -> str:
    if path is None or not path.exists():
        return ""
    return path.read_text(errors="replace")[-chars:]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> None:
    """Remove namespaces and bridges that an earlier run (killed too hard to clean up) left behind."""
    names = [line.split()[0] for line in run("ip", "netns", "list", check=False).stdout.splitlines() if line]
    links = [line.split(":")[1].strip().split("@")[0] for line in
             run("ip", "-o", "link", "show", "type", "bridge", check=False).stdout.splitlines()]
    for name in names + links:
        owner = name[len(PREFIX):].split("-")[0].split("b")[0]
        if name.startswith(PREFIX) and owner.isdigit() and not _pid_alive(int(owner)):
            if name in names:
                _kill_namespace(name)
                run("ip", "netns", "del", name, check=False)
            else:
                run("ip", "link", "del", name, check=False)


def _kill_namespace(netns: str) -> list[int]:
    pids = [int(p) for p in run("ip", "netns", "pids", netns, check=False).stdout.split()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


class Host:
    """One namespace: its address on the bridge and its own directory."""

    def __init__(self, cluster: Cluster, name: str, address: str) -> None:
        self.cluster, self.name, self.address = cluster, name, address
        self.netns = f"{PREFIX}{os.getpid()}-{name}"
        self.dir = cluster.root / "hosts" / name
        self.home, self.tmp, self.media = self.dir / "home", self.dir / "tmp", self.dir / "media"
        self.logs = cluster.root / "logs" / name  # written by this machine (the operator), not by the host
        self.procs: list[subprocess.Popen] = []

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment (nothing inherited from the test process) rooted in this host's directory."""
        env = {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(self.home),
               "TMPDIR": str(self.tmp), "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
               "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1",
               "MEDIA_ROOT": str(self.media), "CLIPCAST_VAR_DIR": str(self.dir / "var")}
        env.update(self.cluster.shared_env)
        env.update(extra)
        return env

    def command(self, argv: list[str]) -> list[str]:
        """argv wrapped to run inside this host: its namespace, hostname and mount view, from its own directory."""
        hidden = [self.cluster.root / "services", self.cluster.root / "logs"]
        hidden += [h.dir for h in self.cluster.hosts.values() if h is not self]
        script = (f"hostname {shlex.quote(self.name)} && "
                  + "".join(f"mount -t tmpfs -o ro,size=4k scaleout-hidden {shlex.quote(str(d))} && " for d in hidden)
                  + f'cd {shlex.quote(str(self.home))} && exec "$@"')
        return ["ip", "netns", "exec", self.netns, "unshare", "--uts", "--mount", "--propagation", "private",
                "sh", "-c", script, self.name, *argv]

    def spawn(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it; closed with the cluster
        self.cluster.files.append(log)
        proc = subprocess.Popen(self.command(argv), env=self.env(**env), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def run(self, argv: list[str], timeout: float = 300, **env: str) -> str:
        done = subprocess.run(self.command(argv), env=self.env(**env), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"{self.name}: {' '.join(argv[:4])} exited {done.returncode}:\n"
                               f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def pids(self) -> list[int]:
        return [int(p) for p in run("ip", "netns", "pids", self.netns, check=False).stdout.split()]

    def kill_all(self) -> set[int]:
        """Host loss: SIGKILL every process in the namespace, at once, with no chance to clean up."""
        pids = set(_kill_namespace(self.netns))
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:  # a child forked while its parent was being killed
            pids.update(_kill_namespace(self.netns))
            time.sleep(0.1)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        return pids

    def stop_all(self, grace: float = 15) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        _kill_namespace(self.netns)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


class Cluster:
    """The bridge, the hosts and the services; a context manager that always tears everything down."""

    def __init__(self, host_names: list[str], keep: bool = False) -> None:
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="clipcast-scaleout-"))
        self.root.chmod(0o755)  # PostgreSQL runs as `postgres` and must reach its data directory
        self.bridge = f"{PREFIX}{os.getpid()}b"[:15]
        self.net = self._free_subnet()
        addresses = list(self.net.hosts())
        self.address = str(addresses[0])  # this machine's side of the bridge, where the services listen
        self.hosts = {name: Host(self, name, str(addresses[i + 1])) for i, name in enumerate(host_names)}
        self.services: dict[str, subprocess.Popen] = {}
        self.files: list = []
        self.shared_env: dict[str, str] = {}
        self.urls: dict[str, str] = {}
        self._pg_data: Path | None = None
        self._old_handlers: dict[int, object] = {}

    @staticmethod
    def _free_subnet() -> ipaddress.IPv4Network:
        used = run("ip", "-4", "-o", "addr", "show", check=False).stdout
        for third in range(77, 250):
            if f"10.77.{third}." not in used:
                return ipaddress.ip_network(f"10.77.{third}.0/24")
        raise RuntimeError("no free 10.77.x.0/24 subnet for the test bridge")

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def __enter__(self) -> Cluster:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        try:
            sweep_stale()
            self._network_up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_signal(self, signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")  # unwinds through __exit__, which cleans up

    def _network_up(self) -> None:
        prefix = self.net.prefixlen
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "addr", "add", f"{self.address}/{prefix}", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        for index, host in enumerate(self.hosts.values()):
            for folder in (host.home, host.tmp, host.media, host.logs):
                folder.mkdir(parents=True)
            veth = f"{self.bridge[:11]}v{index}"
            run("ip", "netns", "add", host.netns)
            run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", host.netns)
            run("ip", "link", "set", veth, "master", self.bridge, "up")
            run("ip", "-n", host.netns, "addr", "add", f"{host.address}/{prefix}", "dev", "eth0")
            run("ip", "-n", host.netns, "link", "set", "eth0", "up")
            run("ip", "-n", host.netns, "link", "set", "lo", "up")
        (self.root / "services").mkdir()
        (self.root / "logs" / "services").mkdir(parents=True)

    def close(self) -> None:
        for host in self.hosts.values():
            with contextlib.suppress(Exception):
                host.stop_all(grace=5)
            run("ip", "netns", "del", host.netns, check=False)
        for name, proc in reversed(list(self.services.items())):
            if name == "postgres" and self._pg_data is not None:
                run("runuser", "-u", "postgres", "--", str(postgres_bin() / "pg_ctl"), "-D", str(self._pg_data),
                    "-m", "immediate", "stop", check=False, timeout=60)
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.services.clear()
        run("ip", "link", "del", self.bridge, check=False)
        for handle in self.files:
            handle.close()
        self.files.clear()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        for sig, handler in self._old_handlers.items():
            signal.signal(sig, handler)
        self._old_handlers.clear()

    # -- services on the bridge --------------------------------------------------------------------------------
    def _service(self, name: str, argv: list[str], port: int, timeout: float = 60, **kwargs) -> None:
        log_path = self.root / "logs" / "services" / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - closed in close()
        self.files.append(log)
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs)
        self.services[name] = proc
        wait_for_port(self.address, port, proc, timeout=timeout, log=log_path)

    def start_postgres(self) -> str:
        pg = postgres_bin()
        assert pg is not None
        data = self.root / "services" / "postgres"
        data.mkdir()
        shutil.chown(data, "postgres", "postgres")
        self._pg_data = data
        run("runuser", "-u", "postgres", "--", str(pg / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", "--locale", "C", timeout=120)
        with open(data / "pg_hba.conf", "a") as hba:  # the hosts (and this machine) reach it over the bridge only
            hba.write(f"host all all {self.net} trust\n")
        port = free_port(self.address)
        self._service("postgres", ["runuser", "-u", "postgres", "--", str(pg / "postgres"), "-D", str(data),
                                   "-c", f"listen_addresses={self.address}", "-p", str(port),
                                   "-c", f"unix_socket_directories={data}", "-c", "fsync=off",
                                   "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                                   "-c", "max_connections=100"], port)
        for _ in range(50):
            if run(str(pg / "pg_isready"), "-h", self.address, "-p", str(port), check=False).returncode == 0:
                break
            time.sleep(0.2)
        run(str(pg / "createdb"), "-h", self.address, "-p", str(port), "-U", "postgres", "clipcast")
        return f"postgres://postgres@{self.address}:{port}/clipcast"

    def start_redis(self) -> str:
        port = free_port(self.address)
        folder = self.root / "services" / "redis"
        folder.mkdir()
        self._service("redis", ["redis-server", "--bind", self.address, "--port", str(port), "--save", "",
                                "--appendonly", "no", "--dir", str(folder), "--protected-mode", "no"], port)
        return f"redis://{self.address}:{port}"

    def start_s3(self) -> str:
        port = free_port(self.address)
        folder = self.root / "services" / "s3"
        folder.mkdir()
        self._service("s3", [str(VENV_BIN / "moto_server"), "-H", self.address, "-p", str(port)], port,
                      cwd=folder, env={"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "LANG": "C.UTF-8"})
        return f"http://{self.address}:{port}"

    def start_sandbox(self) -> str:
        port = free_port(self.address)
        folder = self.root / "services" / "x"
        folder.mkdir()
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
               "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1"}
        self._service("x", [sys.executable, "-m", "tests.scaleout.sandbox_on", self.address, str(port),
                            str(folder / "sandbox.sqlite3")], port, cwd=folder, env=env)
        return f"http://{self.address}:{port}"

    def start_services(self) -> dict[str, str]:
        self.urls = {"database": self.start_postgres(), "redis": self.start_redis(), "s3": self.start_s3(),
                     "x": self.start_sandbox()}
        return self.urls

    # -- what the hosts left on their disks --------------------------------------------------------------------
    def files_of(self, host: str) -> list[Path]:
        folder = self.hosts[host].dir
        return sorted(Path(d, f).relative_to(folder) for d, _, files in os.walk(folder) for f in files)


@contextlib.contextmanager
def cluster(host_names: list[str], keep: bool = False) -> Iterator[Cluster]:
    with Cluster(host_names, keep=keep) as made:
        yield made
