"""The per-host plan file shipped to each source host: its own flows, as JSON.

Unlike ``flowmatrix plan --format json`` (a report), this file keeps every host of a
flow's end with the addresses that flow uses on it, so that the remote probe rebuilds
the exact ``Flow`` objects: a NetScaler's flow to LDAP leaves from its NSIP, its flow to
StoreFront from its SNIP. A destination published through NAT is written with the
public address its source sends to. Reading it needs only the standard library (it
runs remotely).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flowmatrix.documents import DocumentError, SiteRef, header, read_header
from flowmatrix.model import Flow, FlowEnd, HostRef
from flowmatrix.portset import PortSet


class PlanFileError(ValueError):
    """The plan file is not one this probe can read."""


def _host_to_dict(host: HostRef) -> dict[str, Any]:
    return {"name": host.name, "addresses": list(host.addresses), "fqdn": host.fqdn}


def _end_to_dict(end: FlowEnd) -> dict[str, Any]:
    return {
        "role": end.role,
        "role_name": end.role_name,
        "zone": end.zone,
        "any": end.any_address,
        "any_reason": end.any_reason,
        "hosts": [_host_to_dict(h) for h in end.hosts],
    }


def flow_to_dict(flow: Flow) -> dict[str, Any]:
    return {
        "id": flow.id,
        "requirement": flow.requirement,
        "source": _end_to_dict(flow.source),
        "destination": _end_to_dict(flow.sent()),
        "protocol": flow.protocol,
        "ports": list(flow.ports),
        "firewalls": list(flow.firewalls),
        "description": flow.description,
        "service": flow.service,
        "tls": flow.tls,
        "tls_ports": list(flow.tls_ports),
        "status": flow.status,
        "requested": flow.requested,
        "notes": list(flow.notes),
    }


def plan_file(
    *, site: SiteRef, catalog: str, lang: str, host: str, flows: Iterable[Flow], version: str
) -> dict[str, Any]:
    """The document for ``host``: the flows it is a source of."""
    return {
        **header("fleet-plan", site),
        "flowmatrix_version": version,
        "catalog": catalog,
        "lang": lang,
        "host": host,
        "flows": [flow_to_dict(f) for f in flows],
    }


def dump(document: Mapping[str, Any]) -> str:
    """Stable text: the same plan gives the same bytes (Ansible then copies nothing)."""
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


# --- reading (remote side) -------------------------------------------------------------


def _get(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise PlanFileError(f"{where}: missing key {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise PlanFileError(f"{where}: {key!r} has the wrong type")
    return value


def _strings(values: Sequence[Any], where: str) -> tuple[str, ...]:
    if not all(isinstance(v, str) for v in values):
        raise PlanFileError(f"{where}: expected a list of strings")
    return tuple(values)


def _ports(values: Any, where: str) -> PortSet:
    if not isinstance(values, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 65535 for p in values
    ):
        raise PlanFileError(f"{where}: expected port numbers from 1 to 65535")
    return PortSet.of(values)


def _host(data: Any, where: str) -> HostRef:
    if not isinstance(data, dict):
        raise PlanFileError(f"{where}: expected an object")
    fqdn = data.get("fqdn")
    if fqdn is not None and not isinstance(fqdn, str):
        raise PlanFileError(f"{where}: 'fqdn' has the wrong type")
    addresses = _strings(_get(data, "addresses", list, where), f"{where}.addresses")
    return HostRef(_get(data, "name", str, where), addresses, fqdn)


def _end(data: Any, where: str) -> FlowEnd:
    if not isinstance(data, dict):
        raise PlanFileError(f"{where}: expected an object")
    hosts = _get(data, "hosts", list, where)
    return FlowEnd(
        role=_get(data, "role", str, where),
        role_name=_get(data, "role_name", str, where),
        zone=_get(data, "zone", str, where),
        hosts=tuple(_host(h, f"{where}.hosts[{i}]") for i, h in enumerate(hosts)),
        any_address=bool(_get(data, "any", bool, where)),
        any_reason=_optional(data, "any_reason", str, where),
    )


def _optional(data: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    """A key older plan files do not have (None when absent)."""
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise PlanFileError(f"{where}: {key!r} has the wrong type")
    return value


def _flow(data: Any, where: str) -> Flow:
    if not isinstance(data, dict):
        raise PlanFileError(f"{where}: expected an object")
    protocol = _get(data, "protocol", str, where)
    if protocol not in ("tcp", "udp"):
        raise PlanFileError(f"{where}: unknown protocol {protocol!r}")
    service = data.get("service")
    if service is not None and not isinstance(service, str):
        raise PlanFileError(f"{where}: 'service' has the wrong type")
    return Flow(
        id=_get(data, "id", str, where),
        requirement=_get(data, "requirement", str, where),
        source=_end(_get(data, "source", dict, where), f"{where}.source"),
        destination=_end(_get(data, "destination", dict, where), f"{where}.destination"),
        protocol="tcp" if protocol == "tcp" else "udp",
        ports=_ports(_get(data, "ports", list, where), f"{where}.ports"),
        firewalls=_strings(_get(data, "firewalls", list, where), f"{where}.firewalls"),
        description=_get(data, "description", str, where),
        service=service,
        tls=bool(_get(data, "tls", bool, where)),
        status=_get(data, "status", str, where),
        notes=_strings(_get(data, "notes", list, where), f"{where}.notes"),
        tls_ports=_ports(data.get("tls_ports", []), f"{where}.tls_ports"),
        requested=_optional(data, "requested", bool, where) is not False,
    )


def load(text: str) -> tuple[dict[str, Any], tuple[Flow, ...]]:
    """Parse a plan file: its header fields and its flows."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PlanFileError(f"not JSON: {exc}") from None
    try:
        head = read_header(data)
    except DocumentError as exc:
        raise PlanFileError(f"{exc} ({exc.hint})") from None
    if head is None or head.kind != "fleet-plan":
        raise PlanFileError("not a flowmatrix-fleet-plan document")
    flows = _get(data, "flows", list, "plan")
    header = {k: v for k, v in data.items() if k != "flows"}
    return header, tuple(_flow(f, f"flows[{i}]") for i, f in enumerate(flows))
