"""A lab of SSH-reachable hosts made of network namespaces, for the fleet tests.

Topology: one hub namespace holds a bridge; each host namespace has one veth into it,
with an address from a free /24 of 198.18.0.0/15 (the benchmarking range, RFC 2544);
the root namespace gets one more veth into the hub with the .254 of that /24, so that
``ansible-playbook`` (run here) reaches every host, and the hosts reach each other over
the bridge. No forwarding is turned on anywhere: the addresses exist only on these veths.

Each host runs a real ``/usr/sbin/sshd`` on its own address, with a generated host key, a
generated client key and a temporary authorized_keys, in a private mount namespace whose
``/run`` is a tmpfs (sshd needs ``/run/sshd``; the host's own ``/run`` is left alone).

Everything is torn down on exit, also on failure: Ansible's SSH control masters, every
process left in the namespaces, the namespaces themselves (their veths go with them).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from flowmatrix.netns import Namespace, NamespaceSet

SSHD = "/usr/sbin/sshd"
LAB_RANGE = ipaddress.IPv4Network("198.18.0.0/15")
LISTENER = """
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((sys.argv[1], int(sys.argv[2])))
server.listen(64)
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    conn.close()
"""


def lab_support() -> str | None:
    """None when the lab can be built here, else why not."""
    if not os.path.exists(SSHD):
        return f"needs {SSHD} (Debian package openssh-server)"
    for tool in ("ssh", "ssh-keygen", "nft", "unshare"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return None


def _used_networks() -> list[ipaddress.IPv4Network]:
    found: list[ipaddress.IPv4Network] = []
    routes = json.loads(
        subprocess.run(
            ["ip", "-j", "-4", "route", "show", "table", "all"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for route in routes:
        dst = route.get("dst", "")
        if dst and dst != "default":
            found.append(ipaddress.IPv4Network(dst, strict=False))
    addresses = json.loads(
        subprocess.run(
            ["ip", "-j", "-4", "addr"], capture_output=True, text=True, check=True
        ).stdout
    )
    for link in addresses:
        for info in link.get("addr_info", []):
            found.append(
                ipaddress.IPv4Network(f"{info['local']}/{info['prefixlen']}", strict=False)
            )
    return found


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 of the benchmarking range that no route or address of this host touches."""
    used = _used_networks()
    candidates = list(LAB_RANGE.subnets(new_prefix=24))
    random.shuffle(candidates)
    for subnet in candidates:
        if not any(subnet.overlaps(u) for u in used):
            return subnet
    raise RuntimeError("no free /24 in 198.18.0.0/15 on this host")


@dataclass
class LabHost:
    name: str
    namespace: Namespace
    address: str


@dataclass
class SshLab:
    """``count`` hosts reachable by SSH as root with ``client_key``."""

    count: int = 2
    without_sshd: frozenset[str] = frozenset()
    """Hosts (``h1``, ``h2``...) left without sshd: Ansible finds them unreachable."""
    prefix: str = field(default_factory=lambda: f"fmf{uuid.uuid4().hex[:5]}")
    hosts: list[LabHost] = field(default_factory=list)
    folder: Path = field(init=False)
    subnet: ipaddress.IPv4Network = field(init=False)
    root_link: str = field(init=False)
    _namespaces: NamespaceSet = field(init=False)
    _processes: list[subprocess.Popen[str]] = field(default_factory=list)
    _logs: list[IO[str]] = field(default_factory=list)

    # --- set-up -----------------------------------------------------------------------

    def __enter__(self) -> SshLab:
        # short: Ansible's SSH control sockets live under it (108-byte socket path limit)
        self.folder = Path(tempfile.mkdtemp(prefix="fmlab"))
        self._namespaces = NamespaceSet(prefix=self.prefix)
        self.root_link = f"{self.prefix}r"[:15]
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def client_key(self) -> Path:
        return self.folder / "client_key"

    @property
    def gateway(self) -> str:
        return str(self.subnet.network_address + 254)

    def _build(self) -> None:
        self._keys()
        self.subnet = free_subnet()
        hub = self._namespaces.add("hub")
        hub.ip("link", "add", "br0", "type", "bridge")
        hub.ip("link", "set", "br0", "up")
        for index in range(1, self.count + 1):
            name = f"h{index}"
            ns = self._namespaces.add(name)
            self._namespaces.link(hub, f"p{index}", ns, "eth0")
            hub.ip("link", "set", f"p{index}", "master", "br0")
            address = str(self.subnet.network_address + index)
            ns.ip("addr", "add", f"{address}/24", "dev", "eth0")
            self.hosts.append(LabHost(name, ns, address))
        self._root_veth(hub)
        served = [h for h in self.hosts if h.name not in self.without_sshd]
        for host in served:
            self._start_sshd(host)
        for host in served:
            self._wait_for_ssh(host)

    def _keys(self) -> None:
        for key in ("host_key", "client_key"):
            subprocess.run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    "flowmatrix-lab",
                    "-f",
                    str(self.folder / key),
                ],
                check=True,
            )
        shutil.copy(self.folder / "client_key.pub", self.folder / "authorized_keys")

    def _root_veth(self, hub: Namespace) -> None:
        peer = f"w{uuid.uuid4().hex[:10]}"
        subprocess.run(
            ["ip", "link", "add", self.root_link, "type", "veth", "peer", "name", peer], check=True
        )
        subprocess.run(["ip", "link", "set", peer, "netns", hub.name, "name", "up0"], check=True)
        hub.ip("link", "set", "up0", "master", "br0")
        hub.ip("link", "set", "up0", "up")
        subprocess.run(
            ["sysctl", "-q", "-w", f"net.ipv6.conf.{self.root_link}.disable_ipv6=1"], check=True
        )
        subprocess.run(
            ["ip", "addr", "add", f"{self.gateway}/24", "dev", self.root_link], check=True
        )
        subprocess.run(["ip", "link", "set", self.root_link, "up"], check=True)

    def _start_sshd(self, host: LabHost) -> None:
        options = {
            "ListenAddress": host.address,
            "HostKey": str(self.folder / "host_key"),
            "AuthorizedKeysFile": str(self.folder / "authorized_keys"),
            "StrictModes": "no",
            "UsePAM": "no",
            "PidFile": "none",
            "PermitRootLogin": "prohibit-password",
            "PasswordAuthentication": "no",
            "MaxStartups": "100",
            "MaxSessions": "100",
            "Subsystem": "sftp internal-sftp",
        }
        sshd = [SSHD, "-D", "-e", "-f", "/dev/null"]
        for key, value in options.items():
            sshd += ["-o", f"{key}={value}"]
        script = (
            "mount -t tmpfs -o mode=0755 flowmatrix-lab /run && mkdir -m 0755 /run/sshd "
            '&& exec "$@"'
        )
        log = open(self.folder / f"sshd-{host.name}.log", "w")  # noqa: SIM115 - closed in close()
        self._logs.append(log)
        process = host.namespace.popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *sshd],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._processes.append(process)

    def _wait_for_ssh(self, host: LabHost, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(
                ["ssh", *self.ssh_options(), f"root@{host.address}", "true"],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                log = (self.folder / f"sshd-{host.name}.log").read_text()
                raise RuntimeError(f"sshd on {host.address} not reachable: {done.stderr}\n{log}")
            time.sleep(0.1)

    def ssh_options(self) -> list[str]:
        return [
            "-i",
            str(self.client_key),
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
        ]

    # --- services in the hosts ----------------------------------------------------------

    def listen(self, host: LabHost, port: int) -> None:
        """A TCP listener on ``host``'s address."""
        process = host.namespace.popen(
            [sys.executable, "-c", LISTENER, host.address, str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"listener on {host.address}:{port} did not start")

    def drop(self, host: LabHost, port: int) -> None:
        """An nftables rule in ``host`` that drops incoming TCP to ``port``."""
        rules = (
            f"table inet flowmatrix_lab {{\n chain input {{\n"
            f"  type filter hook input priority 0;\n  tcp dport {port} drop\n }}\n}}\n"
        )
        host.namespace.run(["nft", "-f", "-"], input_text=rules)

    # --- Ansible ------------------------------------------------------------------------

    def connection_inventory(self) -> Path:
        """The user's side of the inventory: how to connect, and where to work on each host.

        The hosts share one file system here, so each gets its own remote folder.
        """
        path = self.folder / "connection.yml"
        path.write_text(
            json.dumps(
                {
                    "all": {
                        "vars": {
                            "ansible_user": "root",
                            "ansible_ssh_private_key_file": str(self.client_key),
                            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no "
                            "-o UserKnownHostsFile=/dev/null",
                            "ansible_python_interpreter": sys.executable,
                            "flowmatrix_remote_dir": str(
                                self.folder / "remote" / "{{ inventory_hostname }}"
                            ),
                        }
                    }
                },
                indent=1,
            )
        )
        return path

    def ansible_env(self) -> dict[str, str]:
        """Ansible's own state (temp files, control sockets) inside the lab folder."""
        env = dict(os.environ)
        env.update(
            {
                "ANSIBLE_HOME": str(self.folder / "ansible"),
                "ANSIBLE_LOCAL_TEMP": str(self.folder / "ansible" / "tmp"),
                "ANSIBLE_REMOTE_TMP": str(self.folder / "ansible-remote"),
                "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.folder / "cp"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_CONFIG": str(self.folder / "ansible.cfg"),
            }
        )
        # what the fleet documentation recommends: fewer SSH round trips per task
        (self.folder / "ansible.cfg").write_text("[defaults]\n[connection]\npipelining = True\n")
        return env

    # --- tear-down ----------------------------------------------------------------------

    def _exit_control_masters(self) -> None:
        folder = self.folder / "cp"
        if not folder.is_dir():
            return
        for socket_path in folder.iterdir():
            subprocess.run(
                ["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "lab"],
                capture_output=True,
                timeout=10,
            )

    def _kill_namespace_processes(self) -> None:
        for ns in self._namespaces.namespaces.values():
            pids = subprocess.run(
                ["ip", "netns", "pids", ns.name], capture_output=True, text=True
            ).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)

    def close(self) -> None:
        try:
            self._exit_control_masters()
        finally:
            for process in self._processes:
                if process.poll() is None:
                    process.kill()
                process.wait(timeout=10)
                for stream in (process.stdout, process.stderr):
                    if stream is not None:
                        stream.close()
            self._processes.clear()
            for log in self._logs:
                log.close()
            self._kill_namespace_processes()
            self._namespaces.close()
            subprocess.run(["ip", "link", "delete", self.root_link], capture_output=True)
            shutil.rmtree(self.folder, ignore_errors=True)
