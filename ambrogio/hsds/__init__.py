"""Open Referral HSDS 3.0: how Ambrogio's catalogue reads and writes it.

The reading side is ``ambrogio.importing.hsds`` (HSDS JSON or the tabular data package into
import rows); the writing side is ``ambrogio.export.hsds``. What both must agree on lives here:
which HSDS vocabularies carry Ambrogio's service facets (``vocabularies``), how opening hours
travel as HSDS schedules (``schedules``), and how the tabular package nests into documents
(``tabular``).
"""
