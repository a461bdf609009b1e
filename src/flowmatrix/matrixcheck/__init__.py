"""``flowmatrix matrix check``: a team's flow matrix (XLSX or CSV) checked against the plan.

- ``sheet``: the workbook or CSV file as rows of cell values, merged cells unmerged;
- ``columns``: which column is the source, the destination, the port... (header aliases
  in French and English, or ``--columns``);
- ``cells``: a cell as addresses, hosts or roles of the site, protocols and ports;
- ``compare``: each row against the planned flows, each planned flow against the rows;
- ``output``: table, JSON and CSV; ``annotate``: the annotated copy of the workbook.

Imports: the top-level modules and ``report`` (its statuses, workbook styles and limits).
"""
