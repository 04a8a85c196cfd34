"""Needs and gaps: the anonymous needs welfare points record, and where local supply does not
meet them.

``vocabulary`` names what a need record may say (and nothing personal); ``records`` writes and
reads them for their own welfare point; ``lattice`` fixes the periods aggregates are made of
(ISO weeks and 13-week quarters); ``anonymity`` partitions the records into published cells of
at least k needs; ``supply`` finds the services that reach a comune and their free seats;
``gaps`` and ``trends`` add published cells up; ``maps`` draws them as GeoJSON and vector tiles;
``csv`` reads a file of needs.
"""
