"""Configuration objects, selected by GRANTS_ENV (development, testing, production)."""
