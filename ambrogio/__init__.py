"""Ambrogio: the GraphQL + PostGIS catalogue and map API of a territorial welfare network."""

__version__ = "0.1.0"
