"""Needs and gaps: the anonymous needs welfare points record, and where local supply does not
meet them.

``vocabulary`` names what a need record may say (and nothing personal); ``records`` checks
records and builds the statements that read them for their own welfare point; ``writing``
creates, replaces, deletes, imports and purges them; ``csv`` reads a file of needs;
``lattice`` fixes the periods aggregates are made of (ISO weeks and 13-week quarters);
``anonymity`` partitions the records into published cells of at least k needs; ``supply``
finds the services that reach a comune and their free seats; ``gaps`` adds published cells up
into the gap analysis and the weekly trends; ``analysis`` runs them end to end; ``maps`` draws
the gap analysis as GeoJSON and vector tiles.
"""
