"""The names and addresses this machine answers to, for ``manage.py serve`` bound to every address.

``HOST=0.0.0.0 make run`` is meant to be opened from other machines, as ``http://<this machine's address>:8000/``
or by its host name; when ``ALLOWED_HOSTS`` is not set, serve allows these too (``allowed_hosts_for_bind``).
Found without extra packages: the host name and its resolved addresses, each interface's IPv4 address
(Linux ioctl), the global IPv6 addresses (``/proc/net/if_inet6``) and the address of the default route.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import socket
import struct
from collections.abc import Iterable
from pathlib import Path

WILDCARD_BINDS = frozenset({"0.0.0.0", "::", "[::]"})  # noqa: S104 (names of the wildcard, not a bind)
SIOCGIFADDR = 0x8915


def machine_hosts() -> list[str]:
    """ALLOWED_HOSTS entries for this machine (IPv6 in brackets, as the Host header carries them)."""
    names: list[str] = []
    for name in (socket.gethostname().lower(), socket.getfqdn().lower()):
        if name and name not in names:
            names.append(name)
    addresses = {*resolved(names), *interface_ipv4(), *interface_ipv6(), *default_route_addresses()}
    usable = sorted(
        (ip for ip in addresses if not ip.is_loopback and not ip.is_link_local and not ip.is_unspecified),
        key=lambda ip: (ip.version, ip),
    )
    return [*names, *(f"[{ip}]" if ip.version == 6 else str(ip) for ip in usable)]


def allowed_hosts_for_bind(bind: str, configured: Iterable[str]) -> list[str]:
    """``configured`` plus this machine's names and addresses when ``bind`` is the wildcard address."""
    hosts = list(configured)
    if bind in WILDCARD_BINDS:
        hosts += [host for host in machine_hosts() if host not in hosts]
    return hosts


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolved(names: Iterable[str]) -> set[Address]:
    found: set[Address] = set()
    for name in names:
        with contextlib.suppress(OSError):
            for *_, sockaddr in socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP):
                found.add(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]))
    return found


def interface_ipv4() -> set[Address]:
    found: set[Address] = set()
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _index, name in socket.if_nameindex():
            with contextlib.suppress(OSError):
                request = struct.pack("256s", name.encode()[:15])
                found.add(ipaddress.IPv4Address(fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)[20:24]))
    return found


def interface_ipv6() -> set[Address]:
    found: set[Address] = set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            with contextlib.suppress(ValueError, IndexError):
                found.add(ipaddress.IPv6Address(bytes.fromhex(line.split()[0])))
    return found


def default_route_addresses() -> set[Address]:
    """The source address of the default route (a UDP 'connect' sends nothing)."""
    found: set[Address] = set()
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((probe, 9))
            found.add(ipaddress.ip_address(sock.getsockname()[0]))
    return found
