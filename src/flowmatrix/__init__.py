"""flowmatrix: vendor port requirements turned into flow matrices, rules, checks and reports.

The top-level modules hold the site, the catalog, the plan and what every package shares
(errors, files, caches, port sets, namespaces); each package builds on them, and says in
its docstring which other packages it may import (``tests/test_layers.py`` holds them to
it). No package but ``cli`` and ``importers`` reads the validated site and catalog
(``site``, ``catalog``, pydantic): the others take a ``Plan``, whose site and catalog are
the plain records of ``site_view`` and ``catalog_view``.

Imports: the top-level modules import no package, but ``probe`` (from ``journeys``: the
results it judges; from ``netns``: the thread that enters a namespace) and ``cli`` (from
``__main__``).
"""

__version__ = "0.1.0"
