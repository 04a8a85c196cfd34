"""Availability: bookable slots and reservations (no GraphQL here)."""
