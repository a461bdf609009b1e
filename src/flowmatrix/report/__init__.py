"""Reports people look at: an HTML page, a change-request workbook, Markdown, diagrams.

The entry point is ``flowmatrix.report.compose.build_report`` (or ``make_report``).

Imports: the top-level modules only.
"""
