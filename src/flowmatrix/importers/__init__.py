"""Importers: what a team already has (a NetScaler ns.conf) turned into a site draft.

Each importer reads its format and writes a site file that ``flowmatrix plan`` reads.

Imports: the top-level modules only.
"""
