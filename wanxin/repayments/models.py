"""Repayment and receivable plans live here once the lending services are built; the
schedule arithmetic they rest on is in ``domain.py``."""
