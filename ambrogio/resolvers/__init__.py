"""Resolvers: one module per capability; they validate arguments, run db/ and geo/ builders."""
