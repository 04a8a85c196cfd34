"""HSDS files read into organization documents: one shape, whatever the file's.

A JSON file may hold an organization, a service (with its nested ``organization``), a service
at location, a location (with ``organization_id``), a list or paged list (``contents``) of any
of these, a bundle ``{"organizations": [...], "services": [...]}``, or the tabular package as
JSON (``{"organizations.csv": [...]}``); a zip holds the package's CSV tables, with or without
``datapackage.json``. ``read`` gathers everything under its organization, as the compiled
schema nests it (``ambrogio.hsds.tabular`` does the same for tables), so that the mapping to
import rows knows one shape only. A file that cannot be read at all raises ``UnreadableFile``.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ambrogio.enums import ImportFormat
from ambrogio.errors import UnreadableFile
from ambrogio.hsds import tabular
from ambrogio.hsds.tabular import Note

_MAX_FILES = 200
_MAX_UNZIPPED = 200 * 1024 * 1024

Documents = tuple[list[dict[str, Any]], list[Note]]


def read(data: bytes, fmt: ImportFormat, filename: str | None = None) -> Documents:
    """Organization documents of an HSDS file, and notes on records that belong to none."""
    if fmt is ImportFormat.HSDS_CSV:
        return tabular.nest(_zip_tables(data, filename))
    if fmt is ImportFormat.HSDS_JSON:
        document = _json(data, filename)
        if _is_tabular(document):
            return tabular.nest(_json_tables(document))
        return _documents(document)
    raise ValueError(f"not an HSDS format: {fmt}")


def package_bytes(folder: Path) -> bytes:
    """The CSV tables (and ``datapackage.json``) of a folder as a zip, for ``read``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in (".csv", ".json"):
                archive.write(path, path.name)
    return buffer.getvalue()


# Reading the file


def _unreadable(reason: str, filename: str | None) -> UnreadableFile:
    return UnreadableFile(f"{filename}: {reason}" if filename else reason)


def _json(data: bytes, filename: str | None) -> Any:
    if not data.strip():
        raise _unreadable("the file is empty", filename)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise _unreadable(f"not UTF-8 text (byte {error.start})", filename) from error
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise _unreadable(f"not JSON: {error.msg} at {where}", filename) from error


def _is_tabular(document: Any) -> bool:
    return isinstance(document, dict) and any(
        isinstance(key, str) and key.endswith(".csv") for key in document
    )


def _resource_of(path: str, paths: Mapping[str, str]) -> str | None:
    name = path.rsplit("/", 1)[-1].lower()
    return next((resource for resource, known in paths.items() if known == name), None)


def _json_tables(document: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for path, rows in document.items():
        resource = _resource_of(path, tabular.STANDARD_PATHS)
        if resource is not None and isinstance(rows, list):
            tables[resource] = [row for row in rows if isinstance(row, dict)]
    return tables


def _package_paths(archive: zipfile.ZipFile, names: list[str]) -> dict[str, str]:
    """Resource name -> file name, from ``datapackage.json`` where it is readable."""
    paths = dict(tabular.STANDARD_PATHS)
    descriptor = next((n for n in names if n.rsplit("/", 1)[-1] == "datapackage.json"), None)
    if descriptor is None:
        return paths
    try:
        package = json.loads(archive.read(descriptor).decode("utf-8-sig"))
        resources = package.get("resources", []) if isinstance(package, dict) else []
    except (UnicodeDecodeError, json.JSONDecodeError):
        # A descriptor that is no JSON (a link left by a checkout) names nothing: the
        # standard file names still find the tables.
        return paths
    for resource in resources:
        if isinstance(resource, dict) and isinstance(resource.get("path"), str):
            name = resource.get("name")
            if name in paths:
                paths[str(name)] = resource["path"].rsplit("/", 1)[-1].lower()
    return paths


def _zip_tables(data: bytes, filename: str | None) -> dict[str, list[dict[str, Any]]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise _unreadable("not a zip of HSDS CSV tables", filename) from error
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > _MAX_FILES or sum(i.file_size for i in infos) > _MAX_UNZIPPED:
            raise _unreadable("the zip is too large to be a data package", filename)
        names = [info.filename for info in infos]
        paths = _package_paths(archive, names)
        tables: dict[str, list[dict[str, Any]]] = {}
        for name in names:
            resource = _resource_of(name, paths)
            if resource is None:
                continue
            try:
                text = archive.read(name).decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise _unreadable(f"{name} is not UTF-8 text", filename) from error
            tables[resource] = list(csv.DictReader(io.StringIO(text, newline="")))
    if "organization" not in tables:
        expected = paths["organization"]
        raise _unreadable(f"the package has no organization table ({expected})", filename)
    return tables


# Documents of any shape, gathered per organization


def _items(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, list):
        for item in document:
            yield from _items(item)
    elif isinstance(document, dict):
        if isinstance(document.get("contents"), list):
            yield from _items(document["contents"])
            return
        bundles = ("organizations", "services", "service_at_locations", "locations")
        if "id" not in document and any(isinstance(document.get(k), list) for k in bundles):
            for key in bundles:
                yield from _items(document.get(key) or [])
            return
        yield document


_SERVICE_ONLY = ("status", "cost_options", "service_at_locations", "program_id", "minimum_age")


def _kind(item: Mapping[str, Any]) -> str:
    if isinstance(item.get("service"), dict) or ("service_id" in item and "location_id" in item):
        return "service_at_location"
    # Fields only a service has (an organization has no status).
    if isinstance(item.get("organization"), dict) or any(key in item for key in _SERVICE_ONLY):
        return "service"
    if "location_type" in item or "latitude" in item or "addresses" in item:
        return "location"
    if "name" in item and "id" in item and "code" not in item and "version" not in item:
        return "organization"
    return "other"


def merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    """Fill what ``into`` lacks from ``other``; nested lists of records merge by id."""
    for key, value in other.items():
        current = into.get(key)
        if isinstance(value, list) and isinstance(current, list):
            for record in value:
                add(current, record)
        elif current in (None, "", []):
            into[key] = value


def add(records: list[Any], record: Any) -> None:
    if isinstance(record, dict) and record.get("id") is not None:
        for existing in records:
            if isinstance(existing, dict) and existing.get("id") == record.get("id"):
                merge(existing, record)
                return
    records.append(dict(record) if isinstance(record, dict) else record)


def _documents(document: Any) -> tuple[list[dict[str, Any]], list[Note]]:
    organizations: dict[str, dict[str, Any]] = {}
    notes: list[Note] = []

    def organization(org: Mapping[str, Any], what: str) -> dict[str, Any] | None:
        key = org.get("id")
        if key in (None, ""):
            notes.append(Note(f"{what}.organization", None, _NO_OWNER, False))
            return None
        target = organizations.setdefault(str(key), {"id": key})
        merge(target, org)
        return target

    for item in _items(document):
        kind = _kind(item)
        if kind == "organization":
            organization(item, "organization")
        elif kind == "service":
            owner = item.get("organization") or {"id": item.get("organization_id")}
            target = organization(owner, "service")
            if target is not None:
                service = {k: v for k, v in item.items() if k != "organization"}
                add(target.setdefault("services", []), service)
        elif kind == "service_at_location":
            service = item.get("service") or {"id": item.get("service_id")}
            owner = service.get("organization") or {"id": service.get("organization_id")}
            target = organization(owner, "service_at_location.service")
            if target is not None:
                link = {k: v for k, v in item.items() if k != "service"}
                entry = {k: v for k, v in service.items() if k != "organization"}
                entry["service_at_locations"] = [link]
                add(target.setdefault("services", []), entry)
        elif kind == "location":
            target = organization({"id": item.get("organization_id")}, "location")
            if target is not None:
                add(target.setdefault("locations", []), item)
        else:
            notes.append(Note("document", _label(item), _NOTHING, False))
    if not organizations and not notes:
        notes.append(Note("document", None, _NOTHING, False))
    return list(organizations.values()), notes


_NO_OWNER = "names no organization (organization or organization_id): not imported"
_NOTHING = "holds no organization, service or location: nothing imported"


def _label(item: Mapping[str, Any]) -> str:
    return str(item.get("name") or item.get("id") or ", ".join(sorted(map(str, item)))[:80])
