"""``flowmatrix audit``: an existing ruleset (iptables-save, nftables) against the plan.

It owns the readers of the rulesets teams run (nftables, iptables, and the vendors in
``vendor``), their evaluation against the plan, the fixes and the audit's reports.

Imports: the top-level modules only.
"""
