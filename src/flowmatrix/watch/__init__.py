"""``flowmatrix watch``: prove the planned flows of this host in cycles, for months.

* ``cycle``: one cycle on the verify engine (the plan's targets only, the same bounds),
  and the ``Watcher`` that reloads the site and keeps the old plan when an edit is broken;
* ``state``: what the last cycle showed, and the state changes since the one before;
* ``metrics``: a custom Prometheus collector built from that state (``/metrics``, the
  node_exporter textfile);
* ``server``: the HTTP endpoint; ``rules``: the alerting rules file;
* ``run``: the loop: jittered cycles, SIGHUP reloads, SIGTERM stops within a second.

Imports: the top-level modules and ``probe`` (each cycle runs the verify engine).
"""
