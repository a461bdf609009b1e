"""Fixtures of the rules tests: plans of the shipped examples and of the hostile site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.model import Plan
from flowmatrix.netns import Namespace, NamespaceSet

DATA = Path(__file__).parent / "data"
HOSTILE_SITE = DATA / "hostile.yaml"


@pytest.fixture(scope="session")
def default_plan() -> Plan:
    return load_plan(None)


@pytest.fixture(scope="session")
def dual_plan() -> Plan:
    return load_plan("example:enterprise-dual-stack")


@pytest.fixture(scope="session")
def hostile_plan() -> Plan:
    return load_plan(str(HOSTILE_SITE))


@pytest.fixture
def namespace() -> Iterator[Namespace]:
    """A throwaway network namespace, deleted after the test."""
    with NamespaceSet() as made:
        yield made.add("rules")
