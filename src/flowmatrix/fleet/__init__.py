"""Verify from every source host at once, through Ansible, and merge the results.

``export`` writes an inventory, a playbook, a self-contained probe and one plan per
source host; ``run`` runs ``ansible-playbook`` on them; ``merge`` turns the result files
into one matrix with one status per planned flow.

This package's ``__init__`` stays empty of imports: the remote probe (``remote.py``)
is shipped inside a zipapp that carries only the standard library and the probe engine.

Imports: the top-level modules and ``probe`` (the engine the remote probe carries).
"""
