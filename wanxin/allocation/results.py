"""What allocation does when a bank request it owns becomes final (DESIGN §5). Empty
until paying is built; the handlers live here so result routing can move as one table."""
