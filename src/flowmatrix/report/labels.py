"""Every text a report shows that is not data, in French and English."""

from __future__ import annotations

from flowmatrix.catalog import Lang
from flowmatrix.render import header

_LABELS: dict[str, tuple[str, str]] = {
    # key: (en, fr)
    "title": ("Flow matrix", "Matrice de flux"),
    "report_for": ("Flow report", "Rapport de flux"),
    "catalog": ("Catalog", "Catalogue"),
    "site": ("Site", "Site"),
    "site_file": ("Site file", "Fichier du site"),
    "embedded_example": ("embedded example", "exemple intégré"),
    "results_files": ("Results read", "Résultats lus"),
    "no_results": (
        "No verify, audit or lab results were given: every flow is 'not tested'.",
        "Aucun résultat de vérification, d'audit ou de labo fourni : tous les flux sont "
        "« non testés ».",
    ),
    "summary": ("Summary", "Synthèse"),
    "flows": ("Flows", "Flux"),
    "flow_ports": ("Flow-port rows", "Lignes flux-port"),
    "obsolete_in_use": ("Obsolete requirements in use", "Exigences obsolètes utilisées"),
    "none": ("none", "aucune"),
    "left_out": ("Requirements left out", "Exigences écartées"),
    "warnings": ("Warnings", "Avertissements"),
    "ignored_lines": (
        "result lines without a flow id or a known state (ignored)",
        "lignes de résultat sans identifiant de flux ni état connu (ignorées)",
    ),
    "unmatched_results": (
        "Results about flows that are not in this plan (ignored)",
        "Résultats portant sur des flux absents de ce plan (ignorés)",
    ),
    "diagram": ("Diagram", "Schéma"),
    "diagram_caption": (
        "Zones (boxes), firewalls (hexagons) and roles; arrows are flows, labelled with "
        "protocol and ports, drawn as their worst check status.",
        "Zones (cadres), pare-feu (hexagones) et rôles ; les flèches sont les flux, avec "
        "protocole et ports, tracées selon le pire statut de vérification.",
    ),
    "matrix": ("Flow matrix", "Matrice de flux"),
    "filters": ("Filters", "Filtres"),
    "search": ("Search", "Recherche"),
    "search_placeholder": ("host, address, port, text…", "hôte, adresse, port, texte…"),
    "all": ("All", "Tous"),
    "reset": ("Reset", "Réinitialiser"),
    "showing": ("Showing", "Affichés"),
    "of": ("of", "sur"),
    "page": ("Page", "Page"),
    "rows": ("Rows", "Lignes"),
    "rows_per_page": ("Rows per page", "Lignes par page"),
    "first": ("First page", "Première page"),
    "previous": ("Previous page", "Page précédente"),
    "next": ("Next page", "Page suivante"),
    "last": ("Last page", "Dernière page"),
    "print_page": (
        "printed: this page only (choose 'All' rows per page to print every flow)",
        "imprimé : cette page seulement (choisissez « Tous » dans Lignes par page pour tout "
        "imprimer)",
    ),
    "no_script": (
        "JavaScript is off: the first {n} flows are listed, without filters; the XLSX "
        "workbook holds every flow.",
        "JavaScript est désactivé : les {n} premiers flux sont listés, sans filtres ; le "
        "classeur XLSX contient tous les flux.",
    ),
    "site_flows_many": (
        "{n} site-specific flows: each is in the flow matrix (search for SITE-), with "
        "the description the site file gives it.",
        "{n} flux propres au site : chacun figure dans la matrice de flux (cherchez "
        "SITE-), avec la description que lui donne le fichier du site.",
    ),
    "role": ("Role", "Rôle"),
    "no_firewall": ("No firewall", "Sans pare-feu"),
    "no_firewall_long": (
        "Flows that cross no firewall",
        "Flux qui ne traversent aucun pare-feu",
    ),
    "check": ("Check", "Vérification"),
    "evidence": ("Evidence", "Éléments de preuve"),
    "requirements": ("Requirements", "Exigences"),
    "requirements_intro": (
        "Each requirement as the vendor documents it: the French source text verbatim, "
        "then the English.",
        "Chaque exigence telle que l'éditeur la documente : le texte source français tel "
        "quel, puis l'anglais.",
    ),
    "source_text": ("Source text (French, verbatim)", "Texte source (français, tel quel)"),
    "english": ("English", "Anglais"),
    "french": ("French", "Français"),
    "documented_protocol": ("Documented protocol", "Protocole documenté"),
    "protocols_needed": ("Protocols needed", "Protocoles nécessaires"),
    "reading": ("Reading of the source", "Lecture de la source"),
    "notes": ("Notes", "Notes"),
    "replacement": ("Replacement today", "Remplacement aujourd'hui"),
    "condition": ("Condition", "Condition"),
    "used_by": ("Flows", "Flux"),
    "site_flows": ("Site-specific flows", "Flux propres au site"),
    "site_flow_intro": (
        "Flows declared by the site file, not by the vendor's catalog.",
        "Flux déclarés par le fichier du site, pas par le catalogue de l'éditeur.",
    ),
    "justification": ("Justification", "Justification"),
    "decision": ("Decision", "Décision"),
    "comment": ("Comment", "Commentaire"),
    "catalog_status": ("Catalog status", "Statut catalogue"),
    "check_detail": ("Check detail", "Détail de la vérification"),
    "fqdn": ("Destination FQDN", "FQDN destination"),
    "source_name": ("Source", "Source"),
    "source_address": ("Source address", "Adresse source"),
    "destination_name": ("Destination", "Destination"),
    "destination_address": ("Destination address", "Adresse destination"),
    "firewall_path": ("Firewall path", "Chemin de pare-feu"),
    "nat": ("Address translation (NAT)", "Traduction d'adresses (NAT)"),
    "sheet_summary": ("Summary", "Synthèse"),
    "change_request": ("Firewall change request", "Demande d'ouverture de flux"),
    "decision_help": (
        "Fill in the Decision column of each firewall sheet: approved, rejected or pending.",
        "Renseignez la colonne Décision de chaque onglet pare-feu : approuvé, refusé ou "
        "en attente.",
    ),
    "sheet": ("Sheet", "Onglet"),
    "any": ("any", "toutes"),
    "obsolete_or_legacy": ("obsolete or legacy requirement", "exigence obsolète ou ancienne"),
    "sort_hint": ("Click a column header to sort.", "Cliquez sur un en-tête pour trier."),
    "generated_by": ("Generated by flowmatrix", "Produit par flowmatrix"),
    "no_flows": ("No flow matches the filters.", "Aucun flux ne correspond aux filtres."),
    "per_firewall": ("Per firewall", "Par pare-feu"),
    "per_journey": ("Per user journey", "Par parcours utilisateur"),
    "journey": ("Journey", "Parcours"),
    "blocked_by": ("Blocked by", "Bloqué par"),
}

#: Check statuses (see ``status.Status``).
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "proven": ("Proven", "Prouvé"),
    "failing": ("Failing", "En échec"),
    "depends": ("Depends", "Conditionnel"),
    "not-tested": ("Not tested", "Non testé"),
}

#: Catalog statuses of a requirement.
CATALOG_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "current": ("Current", "Actuel"),
    "obsolete": ("Obsolete", "Obsolète"),
    "legacy": ("Legacy", "Ancien"),
    "odd": ("Odd as written", "Atypique (tel quel)"),
    # an obsolete or legacy flow the site does not keep: in the matrix, not to be opened
    "obsolete-not-requested": ("obsolete: not requested", "obsolète : non demandé"),
    "legacy-not-requested": ("legacy: not requested", "ancien : non demandé"),
}
#: Every catalog status key a report shows (``catalog_key``).
CATALOG_KEYS = tuple(CATALOG_STATUS_LABELS)

#: The values of the spreadsheet's Decision column.
DECISIONS: dict[str, tuple[str, str]] = {
    "approved": ("approved", "approuvé"),
    "rejected": ("rejected", "refusé"),
    "pending": ("pending", "en attente"),
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if lang == "fr" else pair[0]


def label(key: str, lang: Lang) -> str:
    """A report label; a column key known to ``render.HEADERS`` also works."""
    if key in _LABELS:
        return _pick(_LABELS[key], lang)
    return header(key, lang)


def labels(lang: Lang) -> dict[str, str]:
    """All labels in one language (for templates)."""
    return {key: _pick(pair, lang) for key, pair in _LABELS.items()}


def status_label(status: str, lang: Lang) -> str:
    return _pick(STATUS_LABELS[status], lang)


def catalog_key(status: str, requested: bool) -> str:
    """The catalog status of a flow as reports show it: ``obsolete-not-requested`` for an
    obsolete flow the site does not keep (marked so instead of asking for approval)."""
    return status if requested else f"{status}-not-requested"


def catalog_status_label(status: str, lang: Lang) -> str:
    pair = CATALOG_STATUS_LABELS.get(status)
    return _pick(pair, lang) if pair else status


def decisions(lang: Lang) -> list[str]:
    """The Decision values in one language, in list order (the last one is the default)."""
    return [_pick(pair, lang) for pair in DECISIONS.values()]
