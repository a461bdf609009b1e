"""The JSON Schema of the site file, with the catalog's ids as the values an editor offers.

Role ids (a host's roles, a site flow's ends, ``publish`` and ``external`` keys), feature
ids, and requirement ids (``choices``, ``exclude``, ``keep_obsolete``) are listed as
``examples`` and, where the site cannot add its own, as ``enum``: an editor completes them
and flags a typo. A site's own roles and hosts are names the catalog cannot know, so role
fields accept any id (flowmatrix itself checks every reference when it loads the site).
"""

from __future__ import annotations

from typing import Any

from flowmatrix.catalog import Catalog
from flowmatrix.site import Site


def site_schema(catalog: Catalog) -> dict[str, Any]:
    schema: dict[str, Any] = Site.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "flowmatrix site file"
    roles = sorted(r.id for r in catalog.roles)
    servers = sorted(r.id for r in catalog.roles if r.kind == "server")
    external = sorted(r.id for r in catalog.roles if r.kind == "external")
    features = sorted(f.id for f in catalog.features)
    requirements = [r.id for r in catalog.requirements]
    retired = [r.id for r in catalog.requirements if r.status in ("obsolete", "legacy")]
    defs = schema["$defs"]
    offered = {"examples": roles}
    defs["Host"]["properties"]["role"]["anyOf"][0] |= offered  # (a string, or null)
    defs["Host"]["properties"]["roles"]["items"] |= offered
    for end in ("source", "destination"):
        defs["SiteFlow"]["properties"][end] |= offered
    top = schema["properties"]
    top["features"]["propertyNames"] = {"enum": features}
    top["choices"]["propertyNames"] = {"enum": requirements}
    top["exclude"]["propertyNames"] = {"enum": requirements}
    top["publish"]["propertyNames"] = {"examples": servers}
    top["external"]["propertyNames"] = {"enum": external}
    keep = top["keep_obsolete"]["anyOf"][1]["items"]
    keep["enum"] = retired
    return schema
