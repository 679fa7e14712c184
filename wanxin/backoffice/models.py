"""Models of the backoffice app."""
