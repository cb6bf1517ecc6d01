"""What every API resource shares: yen fields, the Tokyo date, trace schemas, the JSON error
shape (flask-smorest documents every error response with it), and paginated lists
(?page=&per_page= in, {"items", "page", "per_page", "total"} out), with the search,
filters and sort keys of a list (`list_args`, read against its core.lists.Listing: an
unknown sort key, state or kind, or a number out of range, is a 422 naming the parameter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select

from grants.core.calendar import tokyo_today
from grants.core.db import ID_MAX, MAX_PAGE, Page
from grants.core.lists import (
    FISCAL_YEAR_MAX,
    FISCAL_YEAR_MIN,
    PER_PAGE_MAX,
    TERM_MAX,
    Direction,
    Filter,
    Listing,
    ListQuery,
)
from grants.core.money import YEN_MAX
from grants.extensions import db


def Yen(**kwargs: object) -> fields.Integer:  # noqa: N802  (reads like a field class)
    """Integer yen: a JSON integer, never a float or a string, zero or more."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=YEN_MAX), **kwargs)


def today() -> date:
    return tokyo_today(datetime.now(UTC))


class MessageSchema(Schema):
    ja = fields.String(required=True)
    en = fields.String(required=True)


class TraceRowSchema(Schema):
    rule_id = fields.String(required=True)
    rule_type = fields.String(required=True)
    severity = fields.String(required=True)
    outcome = fields.String(required=True, metadata={"enum": ["pass", "fail", "warn", "skipped"]})
    compared = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    relaxation = fields.Dict(allow_none=True)
    label = fields.Raw(allow_none=True)
    missing = fields.List(fields.String())
    message = fields.Nested(MessageSchema, required=True)


class TraceSchema(Schema):
    phase = fields.String(required=True)
    ok = fields.Boolean(required=True)
    rows = fields.List(fields.Nested(TraceRowSchema), required=True)


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "unprocessable_entity"})
    message = fields.String(required=True)
    fields = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        metadata={"description": "Messages by field name (nested for nested input)."},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


API_PER_PAGE = 50


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(
        load_default=API_PER_PAGE, validate=validate.Range(min=1, max=PER_PAGE_MAX)
    )


def page_schema(item: type[Schema], **extra: fields.Field) -> type[Schema]:
    """A list envelope named after its items, so the OpenAPI document reads well (with
    `extra` fields about the whole list)."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True),
            **extra,
        },
        name=name,
    )


def paginate(query: Select[Any], args: dict[str, Any]) -> dict[str, Any]:
    """One page of `query` (already ordered) and the total count: two statements."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "page": page, "per_page": per_page, "total": total or 0}


@dataclass(frozen=True)
class ListArgs:
    """A list endpoint's query parameters: `schema` for @blp.arguments(..., location="query"),
    and `query(args)` for what they ask of the listing."""

    listing: Listing
    schema: type[Schema]
    state_key: str = "state"
    program_key: str = "program_id"

    def query(self, args: dict[str, Any]) -> ListQuery:
        listing, sort = self.listing, args["sort"]
        default = listing.default_direction if sort == listing.default_sort else Direction.asc
        return ListQuery(
            sort=sort,
            direction=Direction(args.get("direction") or default),
            page=args["page"],
            per_page=args["per_page"],
            term=(args.get("q") or "").strip(),
            state=args.get(self.state_key),
            kind=args.get("kind"),
            program_id=args.get(self.program_key),
            fiscal_year=args.get("fiscal_year"),
            overdue=args.get("overdue"),
            clamp=False,
        )


def list_args(
    listing: Listing,
    name: str,
    *,
    state_key: str = "state",
    program_key: str = "program_id",
    extra: dict[str, fields.Field] | None = None,
) -> ListArgs:
    """The query parameters of `listing` as a schema named `name` (documented in the OpenAPI
    document with their accepted values): page, per_page, sort, direction and the filters
    the list offers, and `extra` ones of the endpoint's own. `state_key` and `program_key`
    keep the names an endpoint had before."""
    keys = list(listing.sorts)
    found: dict[str, fields.Field] = {
        "page": fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE)),
        "per_page": fields.Integer(
            load_default=API_PER_PAGE, validate=validate.Range(min=1, max=PER_PAGE_MAX)
        ),
        "sort": fields.String(
            load_default=listing.default_sort,
            validate=validate.OneOf(keys),
            metadata={"enum": keys, "description": "The column to sort by; the id breaks ties."},
        ),
        "direction": fields.String(
            validate=validate.OneOf(list(Direction)),
            metadata={
                "enum": list(Direction),
                "description": f"asc or desc; without it, {listing.default_direction} for the "
                f"default sort ({listing.default_sort}) and asc for any other.",
            },
        ),
    }
    if listing.offers(Filter.search):
        found["q"] = fields.String(
            validate=validate.Length(max=TERM_MAX),
            metadata={"description": "Text to search for (any part of the searched columns)."},
        )
    if listing.states:
        found[state_key] = _choice(listing.states, "Only rows in this state.")
    if listing.kinds:
        found["kind"] = _choice(listing.kinds, "Only rows of this kind.")
    if listing.offers(Filter.program):
        found[program_key] = fields.Integer(
            validate=validate.Range(min=1, max=ID_MAX),
            metadata={"description": "Only this programme's rows (its id)."},
        )
    if listing.offers(Filter.fiscal_year):
        found["fiscal_year"] = fields.Integer(
            validate=validate.Range(min=FISCAL_YEAR_MIN, max=FISCAL_YEAR_MAX),
            metadata={"description": "Only rows of this fiscal year (April to March)."},
        )
    if listing.offers(Filter.overdue):
        found["overdue"] = fields.Boolean(
            metadata={"description": "true: only milestones the scan flagged overdue; false: none."}
        )
    schema = Schema.from_dict(found | (extra or {}), name=name)
    return ListArgs(listing, schema, state_key, program_key)


def _choice(values: tuple[str, ...], description: str) -> fields.String:
    return fields.String(
        validate=validate.OneOf(values), metadata={"enum": list(values), "description": description}
    )


def listed(page: Page, items: list[Any] | None = None) -> dict[str, Any]:
    """A page as the list envelope (`items`: the page's rows made ready to dump)."""
    return {
        "items": page.items if items is None else items,
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
    }
