"""``flowmatrix audit``: an existing ruleset (iptables-save, nftables) against the plan."""
