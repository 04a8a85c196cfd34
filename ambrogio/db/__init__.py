"""Database layer: models, engine and sessions, and the project-local PostGIS cluster."""
