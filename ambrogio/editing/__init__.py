"""Editing the catalogue: validated changes, drafts and review, freshness, duplicates.

No strawberry here: the GraphQL resolvers (``ambrogio.resolvers.editing`` and ``.review``)
turn arguments into plain values and call these functions inside one transaction.
"""
