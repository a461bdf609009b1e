"""Importers: what a team already has (a NetScaler ns.conf) turned into a site draft."""
