"""The shipped XenMobile catalog against its source page.

The source page (a flattened copy of the French Citrix page) lives outside the package,
in ``shared/seeds``. Tests that compare with it skip when it is absent; the literal lists
below (ports, role cells, addresses, ids) keep the essential checks running everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from flowmatrix.catalog import Catalog, Requirement, Role, available_catalogs, load_catalog
from flowmatrix.yamlio import load_yaml

SEED = Path(__file__).parents[1].parent / "shared/seeds/000_940b10c60cc70aab.txt"
CATALOG_FILE = Path(__file__).parents[1] / "src/flowmatrix/catalogs/xenmobile-10.yaml"

#: Every port number the page names (port cells, and "le port 443" in prose).
SEED_PORTS = frozenset(
    {21, 22, 25, 53, 80, 123, 389, 443, 514, 636, 1433, 1494, 1812, 2195, 2196, 2598,
     3268, 3269, 4443, 5223, 7279, 8080, 8443, 9080, 9443, 27000, 45000}
)  # fmt: skip

#: Every source or destination cell of the page, as written, and the role it maps to.
SEED_ROLE_CELLS = {
    "XenMobile": "xenmobile",
    "Serveur FTP ou SCP": "ftp-scp-server",
    "NetScaler Gateway": "netscaler-gateway",
    "Serveur DNS": "dns-server",
    "Sites Web intranet": "intranet-web",
    "Trafic réseau XML de StoreFront et l'Interface Web": "storefront",
    "STA NetScaler Gateway": "netscaler-gateway",
    "XenDesktop ou XenApp": "xenapp-xendesktop",
    "Serveur NTP": "ntp-server",
    "Serveur d'authentification LDAP ou Microsoft Active Directory": "ldap-server",
    "Internet": "internet",
    "XenMobile NetScaler Connector": "netscaler-connector",
    "Serveur Syslog": "syslog-server",
    "Serveur d'authentification LDAP ou Active Directory": "ldap-server",
    "XenApp ou XenDesktop": "xenapp-xendesktop",
    "Serveur d'authentification RADIUS": "radius-server",
    "NetScaler": "netscaler-gateway",
    "Appareils": "devices-lan",
    "Point d'accès (navigateur)": "admin-browser",
    "Serveur de licences Citrix": "license-server",
    "Démon vendeur Citrix": "vendor-daemon",
    "Serveur SMTP": "smtp-server",
    "Apple iTunes App Store (ax.itunes.apple.com et *.mzstatic.com)": "app-stores",
    "Apple Volume Purchase Program (vpp.itunes.apple.com)": "app-stores",
    "Pour Windows Phone : login.live.com et *.notify.windows.com": "app-stores",
    "Google Play (play.google.com)": "app-stores",
    "Serveur Nexmo SMS Relay": "sms-relay",
    "https://discovery.mdm.zenprise.com": "discovery-service",
    "Réseau local interne et WiFi": "devices-lan",
    "SQL Server": "sql-server",
    "Internet (hôtes APNs utilisant l'adresse IP publique 17.0.0.0/8)": "apns",
    "Appareils iOS sur les réseaux WiFi": "ios-devices-wifi",
    "Réseau local et Wi-Fi": "devices-lan",
    "discovery.mdm.zenprise.com": "discovery-service",
}

DISCOVERY_IPS = (
    "54.225.219.53",
    "54.243.185.79",
    "107.22.184.230",
    "107.20.173.245",
    "184.72.219.144",
    "184.73.241.73",
    "54.243.233.48",
    "204.236.239.233",
    "107.20.198.193",
)

#: Requirement ids are a contract (site files, reports and audits refer to them).
REQUIREMENT_IDS = (
    *(f"XM-APP-{n:02d}" for n in range(1, 29)),
    *(f"XM-DEV-{n:02d}" for n in range(1, 12)),
    "XM-ADS-01",
    "XM-ADD-01",
    "XM-ADD-02",
    "XM-ADD-03",
)

#: The reading of every row: "ports choice[:default] protocols condition status".
#: A change here is a change of interpretation: update docs/catalog.md with it.
ROWS = {
    "XM-APP-01": "21,22 any:22 tcp support-bundles current",
    "XM-APP-02": "53 all udp+tcp - current",
    "XM-APP-03": "80 all tcp intranet-vpn current",
    "XM-APP-04": "80,8080,443 any:443 tcp xenapp current",
    "XM-APP-05": "123 all udp - current",
    "XM-APP-06": "389 all tcp ldap current",
    "XM-APP-07": "443 all tcp storefront current",
    "XM-APP-08": "443 all tcp - current",
    "XM-APP-09": "443 all tcp - odd",
    "XM-APP-10": "443 all tcp - current",
    "XM-APP-11": "443 all tcp netscaler-connector current",
    "XM-APP-12": "443 all tcp netscaler-connector current",
    "XM-APP-13": "443 all tcp callback-url current",
    "XM-APP-14": "514 all udp syslog current",
    "XM-APP-15": "636 all tcp ldaps current",
    "XM-APP-16": "1494 all tcp xenapp current",
    "XM-APP-17": "1812 all udp radius current",
    "XM-APP-18": "2598 all tcp xenapp current",
    "XM-APP-19": "3268 all tcp global-catalog current",
    "XM-APP-20": "3269 all tcp global-catalog-ssl current",
    "XM-APP-21": "9080 all tcp netscaler-connector current",
    "XM-APP-22": "9443 all tcp netscaler-connector current",
    "XM-APP-23": "45000,80 all tcp clustering current",
    "XM-APP-24": "8443 all tcp - current",
    "XM-APP-25": "4443 all tcp admin-console current",
    "XM-APP-26": "4443 all tcp clustering current",
    "XM-APP-27": "27000 all tcp license-server current",
    "XM-APP-28": "7279 all tcp license-server current",
    "XM-DEV-01": "25 all tcp smtp current",
    "XM-DEV-02": "80,443 all tcp app-stores current",
    "XM-DEV-03": "80,443 all tcp sms-relay current",
    "XM-DEV-04": "443 all tcp ads legacy",
    "XM-DEV-05": "443 all tcp - current",
    "XM-DEV-06": "443 all tcp - current",
    "XM-DEV-07": "1433 all tcp remote-sql current",
    "XM-DEV-08": "2195 all tcp apns obsolete",
    "XM-DEV-09": "2196 all tcp apns obsolete",
    "XM-DEV-10": "5223 all tcp ios current",
    "XM-DEV-11": "8443 all tcp - current",
    "XM-ADS-01": "443 all tcp ads legacy",
    "XM-ADD-01": "443,2197 any:443 tcp apns current",
    "XM-ADD-02": "443 all tcp fcm current",
    "XM-ADD-03": "5228,5229,5230 all tcp fcm current",
}

#: Who talks to whom in every row: "sources > destinations".
FLOWS = {
    "XM-APP-01": "xenmobile > ftp-scp-server",
    "XM-APP-02": "netscaler-gateway xenmobile > dns-server",
    "XM-APP-03": "netscaler-gateway > intranet-web",
    "XM-APP-04": "storefront netscaler-gateway > xenapp-xendesktop",
    "XM-APP-05": "netscaler-gateway > ntp-server",
    "XM-APP-06": "netscaler-gateway xenmobile > ldap-server",
    "XM-APP-07": "internet > netscaler-gateway",
    "XM-APP-08": "internet > netscaler-gateway",
    "XM-APP-09": "xenmobile > xenmobile",
    "XM-APP-10": "internet > xenmobile",
    "XM-APP-11": "xenmobile > netscaler-connector",
    "XM-APP-12": "netscaler-connector > xenmobile",
    "XM-APP-13": "xenmobile > netscaler-gateway",
    "XM-APP-14": "xenmobile > syslog-server",
    "XM-APP-15": "netscaler-gateway xenmobile > ldap-server",
    "XM-APP-16": "netscaler-gateway > xenapp-xendesktop",
    "XM-APP-17": "netscaler-gateway > radius-server",
    "XM-APP-18": "netscaler-gateway > xenapp-xendesktop",
    "XM-APP-19": "netscaler-gateway xenmobile > ldap-server",
    "XM-APP-20": "netscaler-gateway xenmobile > ldap-server",
    "XM-APP-21": "netscaler-gateway > netscaler-connector",
    "XM-APP-22": "netscaler-gateway > netscaler-connector",
    "XM-APP-23": "xenmobile > xenmobile",
    "XM-APP-24": "xenmobile netscaler-gateway devices-lan internet > xenmobile",
    "XM-APP-25": "admin-browser > xenmobile",
    "XM-APP-26": "xenmobile > xenmobile",
    "XM-APP-27": "xenmobile > license-server",
    "XM-APP-28": "xenmobile > vendor-daemon",
    "XM-DEV-01": "xenmobile > smtp-server",
    "XM-DEV-02": "xenmobile > app-stores",
    "XM-DEV-03": "xenmobile > sms-relay",
    "XM-DEV-04": "xenmobile > discovery-service",
    "XM-DEV-05": "devices-lan > xenmobile",
    "XM-DEV-06": "internet > xenmobile",
    "XM-DEV-07": "xenmobile > sql-server",
    "XM-DEV-08": "xenmobile > apns",
    "XM-DEV-09": "xenmobile > apns",
    "XM-DEV-10": "ios-devices-wifi > apns",
    "XM-DEV-11": "internet devices-lan > xenmobile",
    "XM-ADS-01": "devices-lan > discovery-service",
    "XM-ADD-01": "xenmobile > apns",
    "XM-ADD-02": "xenmobile > fcm",
    "XM-ADD-03": "internet devices-lan > fcm",
}

FEATURE_DEFAULTS = {
    "support-bundles": False,
    "intranet-vpn": True,
    "xenapp": True,
    "storefront": True,
    "ldap": True,
    "ldaps": False,
    "global-catalog": False,
    "global-catalog-ssl": False,
    "radius": False,
    "syslog": False,
    "clustering": False,
    "netscaler-connector": False,
    "callback-url": True,
    "license-server": False,
    "admin-console": True,
    "smtp": False,
    "app-stores": False,
    "sms-relay": False,
    "ads": False,
    "remote-sql": True,
    "ios": True,
    "apns": True,
    "android": True,
    "windows-phone": False,
    "fcm": True,
}

#: Ports on which the documented service speaks TLS, and ports on which it never does.
TLS_PORTS = frozenset({443, 8443, 4443, 636, 3269, 9443, 2195, 2196, 5223, 2197})
PLAIN_PORTS = frozenset({21, 22, 25, 53, 80, 123, 389, 514, 1433, 1494, 1812, 2598, 3268,
                         7279, 8080, 9080, 27000, 45000, 5228, 5229, 5230})  # fmt: skip


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    """Collapse every run of whitespace (newlines, no-break spaces) into one space."""
    return " ".join(text.split())


def _seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"source page not available at {SEED}")
    return SEED.read_text(encoding="utf-8")


def _seed_ports(text: str) -> set[int]:
    """Port numbers of the page: port cells at the start of a line, and 'port NNN' in prose."""
    ports: set[int] = set()
    for line in text.splitlines():
        match = re.match(r"^\s*(\d{2,5})(?:\s+(?:ou|et)\s+(\d{2,5}))?(?=\s|$)", line)
        if match:
            ports.update(int(group) for group in match.groups() if group)
    ports.update(int(m.group(1)) for m in re.finditer(r"\bport\s+(\d{2,5})\b", text))
    return ports


def _resolve(catalog: Catalog, text: str) -> list[Role]:
    key = text.casefold()
    return [
        role
        for role in catalog.roles
        if key in {s.casefold() for s in (role.name.fr, role.name.en, *role.aliases)}
    ]


def _page_requirements(catalog: Catalog) -> list[Requirement]:
    return [r for r in catalog.requirements if "not-in-source" not in r.flags]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog("xenmobile-10")


# ------------------------------------------------------------------------------------------
# loading and identity
# ------------------------------------------------------------------------------------------


def test_catalog_is_shipped_and_validates(catalog: Catalog) -> None:
    assert "xenmobile-10" in available_catalogs()
    assert catalog.catalog.id == "xenmobile-10"
    assert catalog.catalog.date == dt.date(2016, 10, 11)
    assert catalog.catalog.product == "Citrix XenMobile 10.1 / NetScaler Gateway"
    assert catalog.catalog.source_file == "shared/seeds/000_940b10c60cc70aab.txt"
    assert [s.id for s in catalog.sections] == ["apps", "devices", "ads", "additions"]
    assert [s.number for s in catalog.sections] == [1, 2, 3, 4]


def test_the_file_validates_by_path_too() -> None:
    by_path = load_yaml(CATALOG_FILE).validate(Catalog)
    assert by_path == load_catalog("xenmobile-10")


def test_requirement_ids_are_the_snapshot(catalog: Catalog) -> None:
    ids = [r.id for r in catalog.requirements]
    assert len(ids) == len(set(ids))
    assert tuple(ids) == REQUIREMENT_IDS


def test_id_prefix_matches_section(catalog: Catalog) -> None:
    prefix = {"apps": "XM-APP-", "devices": "XM-DEV-", "ads": "XM-ADS-", "additions": "XM-ADD-"}
    for req in catalog.requirements:
        assert req.id.startswith(prefix[req.section]), req.id
        assert re.fullmatch(r"XM-[A-Z]{3}-\d{2}", req.id), req.id


def test_every_row_reads_as_recorded(catalog: Catalog) -> None:
    assert set(ROWS) == set(FLOWS) == {r.id for r in catalog.requirements}
    for req in catalog.requirements:
        choice = req.port_choice if req.default_port is None else f"any:{req.default_port}"
        condition = req.condition or "-"
        row = f"{','.join(map(str, req.ports))} {choice} {'+'.join(req.protocols)}"
        assert f"{row} {condition} {req.status}" == ROWS[req.id], req.id
        assert f"{' '.join(req.sources)} > {' '.join(req.destinations)}" == FLOWS[req.id], req.id


# ------------------------------------------------------------------------------------------
# ports
# ------------------------------------------------------------------------------------------


def test_literal_port_list_matches_the_page() -> None:
    assert _seed_ports(_seed_text()) == SEED_PORTS


def test_every_port_of_the_page_is_in_a_page_requirement(catalog: Catalog) -> None:
    covered = {port for req in _page_requirements(catalog) for port in req.ports}
    expected = set(SEED_PORTS)
    if SEED.is_file():
        expected |= _seed_ports(SEED.read_text(encoding="utf-8"))
    assert expected - covered == set()


def test_page_requirements_use_only_ports_of_the_page(catalog: Catalog) -> None:
    for req in _page_requirements(catalog):
        assert set(req.ports) <= SEED_PORTS, req.id


def test_alternatives_and_both(catalog: Catalog) -> None:
    ftp = catalog.requirement("XM-APP-01")
    assert (ftp.port_choice, ftp.chosen_ports(), ftp.chosen_ports(21)) == ("any", (22,), (21,))
    xml = catalog.requirement("XM-APP-04")
    assert xml.port_choice == "any"
    assert xml.chosen_ports() == (443,)
    stores = catalog.requirement("XM-DEV-02")
    assert stores.chosen_ports() == (80, 443)
    assert catalog.requirement("XM-APP-23").chosen_ports() == (45000, 80)


def test_every_documented_row_says_tcp(catalog: Catalog) -> None:
    for req in catalog.requirements:
        expected = "unspecified" if req.section == "ads" else "TCP"
        assert req.documented_protocol == expected, req.id


# ------------------------------------------------------------------------------------------
# protocols, services, TLS, NetScaler addresses
# ------------------------------------------------------------------------------------------


def test_dns_needs_udp_and_tcp(catalog: Catalog) -> None:
    dns = [r for r in catalog.requirements if 53 in r.ports]
    assert [r.id for r in dns] == ["XM-APP-02"]
    assert set(dns[0].protocols) == {"udp", "tcp"}
    assert dns[0].service == "dns"
    reason = dns[0].protocol_reason
    assert reason and "UDP" in reason.en and "UDP" in reason.fr


@pytest.mark.parametrize(("port", "service"), [(123, "ntp"), (1812, "radius"), (514, "syslog")])
def test_udp_services(catalog: Catalog, port: int, service: str) -> None:
    (req,) = [r for r in catalog.requirements if port in r.ports]
    assert req.protocols == ("udp",)
    assert req.service == service
    assert req.protocol_reason


def test_protocol_differs_from_the_page_only_with_a_reason(catalog: Catalog) -> None:
    udp_ids = {"XM-APP-02", "XM-APP-05", "XM-APP-14", "XM-APP-17"}
    for req in catalog.requirements:
        if req.id in udp_ids:
            assert "udp" in req.protocols and req.protocol_reason, req.id
        else:
            assert req.protocols == ("tcp",), req.id


def test_every_requirement_names_a_service(catalog: Catalog) -> None:
    expected = {
        21: "ssh", 53: "dns", 123: "ntp", 389: "ldap", 514: "syslog", 636: "ldaps",
        1433: "mssql", 1494: "ica", 1812: "radius", 2598: "cgp", 3268: "ldap",
        3269: "ldaps", 25: "smtp", 27000: "license", 7279: "license",
    }  # fmt: skip
    for req in catalog.requirements:
        assert req.service, req.id
        for port, service in expected.items():
            if port in req.ports:
                assert req.service == service, req.id


def test_tls_per_port(catalog: Catalog) -> None:
    for req in catalog.requirements:
        for port in req.ports:
            if port in TLS_PORTS:
                assert req.tls_on(port), f"{req.id}: {port} should speak TLS"
            else:
                assert port in PLAIN_PORTS, f"{req.id}: port {port} not classified"
                assert not req.tls_on(port), f"{req.id}: {port} is plain"
        # a consumer reading only `tls` must never start TLS on a plain port
        if req.tls:
            assert not set(req.ports) & PLAIN_PORTS, req.id


def test_netscaler_ends_name_their_address(catalog: Catalog) -> None:
    netscalers = {r.id for r in catalog.roles if r.netscaler}
    assert netscalers == {"netscaler-gateway"}
    for req in catalog.requirements:
        assert (req.source_address is not None) == bool(netscalers & set(req.sources)), req.id
        has_ns_destination = bool(netscalers & set(req.destinations))
        assert (req.destination_address is not None) == has_ns_destination, req.id


@pytest.mark.parametrize(
    ("req_id", "source", "destination"),
    [
        ("XM-APP-02", "snip", None),  # DNS
        ("XM-APP-03", "snip", None),  # intranet
        ("XM-APP-04", "snip", None),  # STA
        ("XM-APP-05", "nsip", None),  # NTP
        ("XM-APP-06", "aaa", None),  # LDAP
        ("XM-APP-15", "aaa", None),  # LDAPS
        ("XM-APP-17", "aaa", None),  # RADIUS
        ("XM-APP-19", "aaa", None),  # GC
        ("XM-APP-20", "aaa", None),  # GC SSL
        ("XM-APP-16", "snip", None),  # ICA
        ("XM-APP-18", "snip", None),  # CGP
        ("XM-APP-21", "snip", None),  # connector HTTP
        ("XM-APP-22", "snip", None),  # connector HTTPS
        ("XM-APP-24", "snip", None),  # 8443
        ("XM-APP-07", None, "vip"),  # Internet -> gateway
        ("XM-APP-08", None, "vip"),
        ("XM-APP-13", None, "vip"),  # callback
    ],
)
def test_netscaler_address_per_flow(
    catalog: Catalog, req_id: str, source: str | None, destination: str | None
) -> None:
    req = catalog.requirement(req_id)
    assert (req.source_address, req.destination_address) == (source, destination)


# ------------------------------------------------------------------------------------------
# texts: bilingual, verbatim
# ------------------------------------------------------------------------------------------


def test_every_requirement_is_bilingual(catalog: Catalog) -> None:
    for req in catalog.requirements:
        assert req.description.fr.strip() and req.description.en.strip(), req.id
        assert req.description.fr != req.description.en, req.id
        for note in req.notes:
            assert note.fr.strip() and note.en.strip() and note.fr != note.en, req.id
        if req.replacement is not None:
            assert req.replacement.description.fr != req.replacement.description.en, req.id


def test_french_descriptions_are_verbatim(catalog: Catalog) -> None:
    page = _norm(_seed_text())
    for req in _page_requirements(catalog):
        assert _norm(req.description.fr) in page, req.id


def test_source_texts_are_verbatim(catalog: Catalog) -> None:
    page = _norm(_seed_text())
    for req in _page_requirements(catalog):
        assert _norm(req.source_text) in page, req.id
        assert _norm(req.description.fr) in _norm(req.source_text) or req.section == "ads", req.id


def test_section_texts_and_procedures_are_verbatim(catalog: Catalog) -> None:
    page = _norm(_seed_text())
    info = catalog.catalog
    assert info.intro is not None
    assert _norm(info.intro.fr) in page
    assert _norm(info.title.fr) in page
    for section in catalog.sections:
        if section.id == "additions":
            continue
        assert _norm(section.title.fr) in page, section.id
        assert section.intro is not None
        assert _norm(section.intro.fr) in page, section.id
    for procedure in catalog.procedures:
        for paragraph in procedure.text.fr.split("\n\n"):
            assert _norm(paragraph) in page, procedure.id
        for step in procedure.steps:
            assert _norm(step.fr) in page, procedure.id


def test_additions_are_not_claimed_from_the_page(catalog: Catalog) -> None:
    page = _norm(_seed_text())
    for req in catalog.requirements:
        if "not-in-source" in req.flags:
            assert _norm(req.description.fr) not in page, req.id


def test_ambiguous_rows_record_their_reading(catalog: Catalog) -> None:
    # rows with their own port, source and destination cells, one each, nothing glued
    clear_rows = {
        "XM-APP-03", "XM-APP-05", "XM-APP-14", "XM-APP-16", "XM-APP-17",
        "XM-APP-18", "XM-APP-27", "XM-APP-28", "XM-DEV-07",
    }  # fmt: skip
    without_reading = {r.id for r in _page_requirements(catalog) if not r.reading}
    assert without_reading == clear_rows
    for req in _page_requirements(catalog):
        if req.id not in clear_rows:
            assert req.reading and min(len(req.reading.en), len(req.reading.fr)) > 30, req.id


# ------------------------------------------------------------------------------------------
# roles
# ------------------------------------------------------------------------------------------


def test_role_cells_of_the_page_are_literal() -> None:
    page = _seed_text()
    for cell in SEED_ROLE_CELLS:
        assert cell in page, cell


def test_every_role_cell_resolves_to_one_role(catalog: Catalog) -> None:
    for cell, role_id in SEED_ROLE_CELLS.items():
        found = _resolve(catalog, cell)
        assert [r.id for r in found] == [role_id], cell


def test_no_spelling_names_two_roles(catalog: Catalog) -> None:
    owner: dict[str, str] = {}
    for role in catalog.roles:
        for spelling in {s.casefold() for s in (role.name.fr, role.name.en, *role.aliases)}:
            assert owner.setdefault(spelling, role.id) == role.id, spelling


def test_every_role_is_used(catalog: Catalog) -> None:
    used = {role for r in catalog.requirements for role in (*r.sources, *r.destinations)}
    # web-proxy is the role of a site's proxy host (proxy:), which no requirement names
    assert used | {"web-proxy"} == {r.id for r in catalog.roles}


def test_role_kinds_and_zones(catalog: Catalog) -> None:
    for role_id in ("internet", "apns", "app-stores", "sms-relay", "discovery-service", "fcm"):
        assert catalog.role(role_id).default_zone == "internet", role_id
    for role_id in ("apns", "app-stores", "sms-relay", "discovery-service", "fcm"):
        assert catalog.role(role_id).kind == "external", role_id
    for role_id in ("internet", "devices-lan", "ios-devices-wifi", "admin-browser"):
        assert catalog.role(role_id).kind == "client", role_id
    assert catalog.role("netscaler-gateway").kind == "appliance"


def test_renamed_products_carry_their_modern_name(catalog: Catalog) -> None:
    expected = {
        "netscaler-connector": "Exchange ActiveSync",
        "xenapp-xendesktop": "Citrix Virtual Apps and Desktops",
        "sms-relay": "Vonage",
        "netscaler-gateway": "Citrix Gateway",
        "xenmobile": "Citrix Endpoint Management",
    }
    for role_id, fragment in expected.items():
        modern = catalog.role(role_id).modern_name
        assert modern is not None and fragment in modern.en, role_id


# ------------------------------------------------------------------------------------------
# Internet services
# ------------------------------------------------------------------------------------------


def test_discovery_service_has_the_nine_addresses(catalog: Catalog) -> None:
    (endpoint,) = catalog.role("discovery-service").endpoints
    assert endpoint.fqdn == "discovery.mdm.zenprise.com"
    assert endpoint.addresses == DISCOVERY_IPS
    assert endpoint.status == "legacy"
    if SEED.is_file():
        page = SEED.read_text(encoding="utf-8")
        assert re.findall(r"^\d+\.\d+\.\d+\.\d+$", page, re.MULTILINE) == list(DISCOVERY_IPS)


def test_apns_endpoints(catalog: Catalog) -> None:
    endpoints = {e.fqdn: e for e in catalog.role("apns").endpoints}
    assert set(endpoints) == {
        "gateway.push.apple.com",
        "feedback.push.apple.com",
        "*.push.apple.com",
        "api.push.apple.com",
    }
    for endpoint in endpoints.values():
        assert endpoint.addresses == ("17.0.0.0/8",)
    assert endpoints["gateway.push.apple.com"].status == "obsolete"
    assert endpoints["feedback.push.apple.com"].status == "obsolete"
    assert endpoints["*.push.apple.com"].status == "current"


def test_app_store_endpoints(catalog: Catalog) -> None:
    endpoints = {e.fqdn: e.status for e in catalog.role("app-stores").endpoints}
    assert endpoints == {
        "ax.itunes.apple.com": "current",
        "*.mzstatic.com": "current",
        "vpp.itunes.apple.com": "current",
        "login.live.com": "obsolete",
        "*.notify.windows.com": "obsolete",
        "play.google.com": "current",
    }


@pytest.mark.parametrize("req_id", ["XM-DEV-08", "XM-DEV-09"])
def test_binary_apns_is_obsolete_with_a_replacement(catalog: Catalog, req_id: str) -> None:
    req = catalog.requirement(req_id)
    assert req.status == "obsolete"
    replacement = req.replacement
    assert replacement is not None
    assert replacement.fqdn == "api.push.apple.com"
    assert set(replacement.ports) == {443, 2197}
    assert replacement.since == dt.date(2021, 3, 31)
    assert replacement.source


def test_device_side_apns_stays_current(catalog: Catalog) -> None:
    req = catalog.requirement("XM-DEV-10")
    assert req.status == "current" and req.replacement is None
    assert any("443" in note.en for note in req.notes)


@pytest.mark.parametrize("req_id", ["XM-DEV-04", "XM-ADS-01"])
def test_discovery_rows_are_legacy(catalog: Catalog, req_id: str) -> None:
    req = catalog.requirement(req_id)
    assert req.status == "legacy"
    assert req.replacement is not None and "Citrix Cloud" in req.replacement.description.en


def test_odd_row_is_kept_and_flagged(catalog: Catalog) -> None:
    req = catalog.requirement("XM-APP-09")
    assert req.sources == req.destinations == ("xenmobile",)
    assert req.status == "odd"
    assert "odd-as-written" in req.flags
    assert req.reading
    flagged = [r.id for r in catalog.requirements if "odd-as-written" in r.flags]
    assert flagged == ["XM-APP-09"]


def test_additions_are_separate_and_cite_their_source(catalog: Catalog) -> None:
    additions = [r for r in catalog.requirements if "not-in-source" in r.flags]
    assert [r.id for r in additions] == ["XM-ADD-01", "XM-ADD-02", "XM-ADD-03"]
    for req in additions:
        assert req.section == "additions"
        assert any("shared/domain/README.md" in note.en for note in req.notes), req.id
    assert all(r.section != "additions" for r in _page_requirements(catalog))


# ------------------------------------------------------------------------------------------
# features and procedures
# ------------------------------------------------------------------------------------------


def test_features_and_defaults(catalog: Catalog) -> None:
    assert catalog.feature_defaults() == FEATURE_DEFAULTS
    for feature in catalog.features:
        assert feature.description.fr != feature.description.en, feature.id


def test_core_flows_are_unconditional(catalog: Catalog) -> None:
    unconditional = {r.id for r in catalog.requirements if r.condition is None}
    assert unconditional == {
        "XM-APP-02",  # DNS
        "XM-APP-05",  # NTP
        "XM-APP-08",  # app delivery through the gateway
        "XM-APP-09",  # odd row, as written
        "XM-APP-10",  # enrolment
        "XM-APP-24",  # 8443 enrolment, store, MAM
        "XM-DEV-05",  # enrolment from the LAN
        "XM-DEV-06",  # enrolment from the Internet
        "XM-DEV-11",  # iOS enrolment
    }


def test_procedures(catalog: Catalog) -> None:
    procedures = {p.id: p for p in catalog.procedures}
    assert set(procedures) == {"proxy-bypass", "certificate-pinning"}
    assert all(p.section == "ads" for p in procedures.values())
    pinning = procedures["certificate-pinning"]
    assert len(pinning.steps) == 2
    assert "PEM" in pinning.steps[0].fr and "PEM" in pinning.steps[0].en
    assert "proxy" in procedures["proxy-bypass"].text.fr


# ------------------------------------------------------------------------------------------
# schema: TLS on some ports only
# ------------------------------------------------------------------------------------------

_BASE = {
    "id": "T-01",
    "section": "s",
    "ports": [80, 443],
    "port_choice": "all",
    "documented_protocol": "TCP",
    "protocols": ["tcp"],
    "sources": ["a"],
    "destinations": ["b"],
    "description": {"fr": "x", "en": "y"},
    "source_text": "x",
}


def test_tls_ports_mark_some_ports() -> None:
    req = Requirement.model_validate({**_BASE, "tls_ports": [443]})
    assert (req.tls, req.tls_on(443), req.tls_on(80)) == (False, True, False)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"tls": True, "tls_ports": [443]}, "omit tls_ports"),
        ({"tls_ports": [8443]}, "not among the ports"),
        ({"tls_ports": [80, 443]}, "tls: true"),
    ],
)
def test_tls_ports_are_checked(extra: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Requirement.model_validate({**_BASE, **extra})
