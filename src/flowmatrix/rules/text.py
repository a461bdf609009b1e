"""Text that goes into generated configurations: comments and identifiers.

Descriptions in a site are free text. Whatever they contain, a comment must stay one
line, inside its quotes, in every target: so characters are kept from a short list
(letters and digits of any script, space and plain punctuation) and everything else
becomes a space. Identifiers are built from names the site already restricts.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from flowmatrix.errors import UserError
from flowmatrix.i18n import _

#: What a comment keeps: letters and digits of any script, '_', the space, and punctuation
#: harmless inside a quoted string, a remark, an XML text, a C comment or a JSON/YAML
#: scalar. Quotes, backslashes, '*', '$', '`', braces, brackets, '%', '&', '|', every
#: other space and every control character become a space.
_UNSAFE = re.compile(r"[^\w .,:;/()+=@#'<>!?-]")
_SPACES = re.compile(r" {2,}")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")
_NOT_LABEL = re.compile(r"[^a-z0-9-]+")
#: Linux interface names are at most 15 bytes (IFNAMSIZ - 1).
LINUX_IFNAME_LIMIT = 15


def clean_text(text: str) -> str:
    """``text`` on one line, with only harmless characters, spaces collapsed."""
    return _SPACES.sub(" ", _UNSAFE.sub(" ", text)).strip()


def truncate_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    cut = data[: limit - 3].decode("utf-8", errors="ignore").rstrip()
    return cut + "..."


@lru_cache(maxsize=4096)
def comment(text: str, limit: int) -> str:
    """A single-line, quote-free comment of at most ``limit`` UTF-8 bytes."""
    return truncate_bytes(clean_text(text), limit)


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def identifier(text: str, limit: int = 64) -> str:
    """``[A-Za-z0-9_]`` only; long names keep a hash of the full text to stay unique."""
    name = _NOT_IDENTIFIER.sub("_", text).strip("_") or "x"
    if name[0].isdigit():
        name = "n" + name
    if len(name) > limit:
        name = name[: limit - 7].rstrip("_") + "_" + short_hash(text)
    return name


def label(text: str, limit: int = 48) -> str:
    """A lowercase DNS-label-like name (``[a-z][a-z0-9-]*``), as GCE and Kubernetes want."""
    name = _NOT_LABEL.sub("-", text.lower()).strip("-") or "x"
    if not name[0].isalpha():
        name = "f" + name
    if len(name) > limit:
        name = name[: limit - 7].rstrip("-") + "-" + short_hash(text)
    return name


def linux_interface(name: str, target: str) -> str:
    """``name`` if Linux accepts it as an interface name, else a UserError."""
    if len(name.encode("utf-8")) > LINUX_IFNAME_LIMIT or "/" in name or ":" in name:
        raise UserError(
            _("interface name {name!r} is not a Linux interface name ({target})").format(
                name=name, target=target
            ),
            hint=_(
                "at most {limit} characters, no '/' or ':'; "
                "fix the firewall's 'interfaces' in the site"
            ).format(limit=LINUX_IFNAME_LIMIT),
        )
    return name
