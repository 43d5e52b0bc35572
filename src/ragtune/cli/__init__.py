"""The ragtune command line (typer + rich)."""
