"""The GraphQL ``ServiceFilter`` input as the catalogue's ``FilterInput``."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.catalogue.filter_input import FilterInput, PriceInput, resolve_filter
from ambrogio.catalogue.filters import ServiceFilterSpec
from ambrogio.schema.types.inputs import ServiceFilter


def filter_input(given: ServiceFilter | None) -> FilterInput | None:
    if given is None:
        return None
    values = {field.name: getattr(given, field.name) for field in fields(FilterInput)}
    if given.price is not None:
        values["price"] = PriceInput(given.price.min, given.price.max, given.price.unit)
    if given.free_between is not None:
        values["free_between"] = (given.free_between.from_, given.free_between.to)
    return FilterInput(**values)


async def filter_spec(session: AsyncSession, given: ServiceFilter | None) -> ServiceFilterSpec:
    """The checked filter of a GraphQL request (see ``catalogue.filter_input``)."""
    return await resolve_filter(session, filter_input(given))
