"""Bulk import of providers: GeoJSON and CSV (the import profile) and Open Referral HSDS."""
