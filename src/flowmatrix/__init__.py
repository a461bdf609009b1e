"""flowmatrix: vendor port requirements turned into flow matrices, rules, checks and reports."""

__version__ = "0.1.0"
