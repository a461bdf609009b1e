"""Redaction looks for a secret keyword with the expressions only in texts that may hold
one: it gives what the expressions give on every text, and hides every secret-bearing
construct of the four vendors."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowmatrix.audit.vendor import shared
from flowmatrix.audit.vendor.shared import (
    SECRET_ELEMENTS,
    SECRET_WORDS,
    may_hold_secret,
    redact,
    redact_always,
)

#: Every construct of the four vendors that holds a secret, with the secret in it.
SECRET_LINES = [
    # FortiGate
    "set password ENC SH2XYZZYAdminHash000=",
    "        set psksecret ENC XYZZYPreSharedKey==",
    "set passwd ENC XYZZYUserPassword",
    'set private-key "-----BEGIN ENCRYPTED PRIVATE KEY----- XYZZYKey"',
    "set secret ENC XYZZYRadius",
    "set key ENC XYZZYTacacs",
    "set auth-pwd ENC XYZZYLdap",
    "set md5-key 1 XYZZYOspf",
    "set authentication-key XYZZYBgp",
    'set psksecret-remote "XYZZYRemote"',
    "set secondary-secret XYZZYRadius2",
    "set auth-pwd XYZZYSnmpAuth",
    "set priv-pwd XYZZYSnmpPriv",
    'set key-string "XYZZYOspfMd5"',
    "set api-key ENC XYZZYApi",
    "frobnicate password XYZZYX",
    # Cisco ASA
    "enable password $sha512$5000$XYZZYEnableHash==$xyz pbkdf2",
    "passwd 2KFQnbNIdXYZZY encrypted",
    "username admin password $sha512$5000$XYZZYUserHash==$abc pbkdf2 privilege 15",
    "snmp-server community XYZZYCommunity",
    "snmp-server host inside 10.0.0.5 community XYZZYCommunity version 2c",
    " ikev1 pre-shared-key XYZZYTunnelKey",
    " ikev2 local-authentication pre-shared-key XYZZYIkev2",
    " key XYZZYRadiusKey",
    " ldap-login-password XYZZYLdap",
    " ikev2 remote-authentication pre-shared-key XYZZYIkev2Remote",
    "snmp-server user u g v3 auth sha XYZZYAuth priv aes 128 XYZZYPriv",
    " ospf message-digest-key 1 md5 XYZZYOspf",
    "ntp authentication-key 1 md5 XYZZYNtp",
    "failover key XYZZYFailover",
    # PAN-OS
    "set mgt-config users admin phash $1$XYZZYPasswordHash0000",
    "set network ike gateway branch authentication pre-shared-key key -AQ==XYZZYIke=",
    "set shared local-user-database user u password XYZZYLocal",
    "set deviceconfig system snmp-setting access-setting version v2c snmp-community-string XYZZY",
    "snmp-community-string XYZZYBrace;",
    "set deviceconfig system snmp-setting access-setting version v3 users u authpwd XYZZY",
    "set deviceconfig system snmp-setting access-setting version v3 users u privpwd XYZZY",
    "set deviceconfig system panorama local-panorama panorama-server 10.0.0.1 authkey XYZZY",
    "set shared server-profile ldap L server s bind-password XYZZYBind",
    "<snmp-community-string>XYZZYXmlCommunity</snmp-community-string>",
    "<authpwd>XYZZYXmlAuth</authpwd><privpwd>XYZZYXmlPriv</privpwd>",
    "<authkey>XYZZYXmlAuthKey</authkey>",
    "<bind-password>XYZZYXmlBind</bind-password>",
    "<api-key>XYZZYXmlApi</api-key>",
    "<phash>$1$XYZZYXmlHash</phash>",
    "<password>XYZZYXmlPassword</password>",
    "<pre-shared-key><key>-AQ==XYZZYXmlKey</key></pre-shared-key>",
    "<private-key>XYZZYXmlPrivate</private-key>",
    "<secret>XYZZYXmlSecret</secret>",
    "<PHASH>XYZZYUpperHash</PHASH>",
    # Juniper SRX
    'encrypted-password "$6$Redacted$XYZZYRootHash"; ## SECRET-DATA',
    'pre-shared-key ascii-text "$9$XYZZYIkeKey"; ## SECRET-DATA',
    "pre-shared-key hexadecimal-key XYZZYHex;",
    'authentication-key "$9$XYZZYOspfKey"; ## SECRET-DATA',
    'ssh-rsa "ssh-rsa AAAAB3XYZZYRsa admin@host"; ## SECRET-DATA',
    'ssh-ed25519 "ssh-ed25519 AAAAC3XYZZYEd admin@host";',
    'ssh-dss "ssh-dss AAAAB3XYZZYDss";',
    'ecdsa-sha2-nistp256 "ecdsa-sha2-nistp256 AAAAE2XYZZYEcdsa";',
    'secret "$9$XYZZYRadius"; ## SECRET-DATA',
    "community XYZZYSnmp {",
    'md5 1 key "$9$XYZZYMd5";',
    "set system root-authentication encrypted-password $6$XYZZYSetHash",
    "set security ike policy p pre-shared-key ascii-text $9$XYZZYSetKey",
    "set system login user u authentication plain-text-password-value XYZZYPlain",
    "set snmp v3 usm local-engine user u authentication-sha authentication-password XYZZY",
    "set system radius-server 10.0.0.1 secret XYZZYRadius",
    # any case, and the letters that match ASCII ones regardless of case
    "SET PASSWORD ENC XYZZYUpper",
    "Pre-Shared-Key XYZZYMixed",
    "set \u212aey XYZZYKelvin",
    "pa\u017f\u017fword XYZZYLongS",
    "policy 7 'srv': srcaddr key XYZZYInText; action accept",
]


@pytest.mark.parametrize("line", SECRET_LINES)
def test_every_secret_construct_is_redacted_as_always(line: str) -> None:
    assert may_hold_secret(line)
    assert redact(line) == redact_always(line)
    assert "XYZZY" not in redact(line)


#: Letters that match these ASCII ones regardless of case (Unicode case folding).
_CASES = {"k": "\u212a", "s": "\u017f", "i": "\u0130\u0131"}
_BEFORE = ["", " ", "set ", "\t", "\n", ";", "<x>", "a", "é "]
_FORMS = [
    *("{} XYZZY", "{}\tXYZZY x", "<{}>XYZZY<", "<{}><key>XYZZY<", "{}", "{};", "x{} XYZZY"),
    *("x-{} XYZZY", "{}-x XYZZY", "<x-{}>XYZZY<", "<x.y-{}>XYZZY<", "<{}-x>XYZZY<"),
]


def _spellings(word: str) -> list[str]:
    """The word in lower, upper and title case, and with each letter that has a
    non-ASCII match replaced by it."""
    out = [word.lower(), word.upper(), word.title()]
    for at, letter in enumerate(word.lower()):
        out += [
            word.lower()[:at] + other + word.lower()[at + 1 :] for other in _CASES.get(letter, "")
        ]
    return out


def test_redaction_is_the_expressions_for_every_keyword_however_written() -> None:
    for word in SECRET_WORDS + SECRET_ELEMENTS:
        for spelled in _spellings(word):
            for before, form in itertools.product(_BEFORE, _FORMS):
                text = before + form.format(spelled)
                assert redact(text) == redact_always(text), text


_PIECES = [*SECRET_WORDS, *SECRET_ELEMENTS, *"<>/ \t\n;-", "\u212a", "\u017f", "pass", "ke"]
TEXTS = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=3)), max_size=12).map("".join)


@settings(max_examples=1000, deadline=None)
@given(TEXTS)
def test_redaction_is_the_expressions_on_every_text(text: str) -> None:
    assert redact(text) == redact_always(text)
    if not may_hold_secret(text):
        assert shared._SECRET.search(text) is None and shared._SECRET_XML.search(text) is None
