"""The filtered + paginated list query, and the validated paging request."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func
from sqlmodel import Session, select

from jobext.errors import Invalid
from jobext.http.params import parse_int

MAX_PER_PAGE = 1000


@dataclasses.dataclass(frozen=True)
class PageRequest:
    """``page``/``per_page``/``sort``/``search`` of a list request, already validated."""

    page: int = 0
    per_page: int = 50
    sort: str | None = None
    search: str | None = None

    @classmethod
    def parse(
        cls,
        page: str | None,
        per_page: str | None,
        sort: str | None,
        search: str | None,
        *,
        sortable: Sequence[str],
    ) -> PageRequest:
        """Validate raw query values; raise :class:`Invalid` naming the bad one."""
        page_n = parse_int("page", page, 0, minimum=0, maximum=10**9) or 0
        per_page_n = parse_int("per_page", per_page, 50, minimum=1, maximum=MAX_PER_PAGE) or 50
        if sort is not None:
            sort = sort.strip()
            if sort.lstrip("-") not in sortable:
                raise Invalid("sort", f"cannot sort by {sort!r}; use one of {', '.join(sortable)}")
        search = search.strip() or None if search is not None else None
        return cls(page=page_n, per_page=per_page_n, sort=sort or None, search=search)


def paginate(
    session: Session,
    stmt: Select[Any],
    request: PageRequest,
    *,
    columns: dict[str, Any],
    default_sort: str,
    tiebreak: Any,
) -> tuple[list[Any], int]:
    """Run ``stmt`` for one page; return the rows and the total count of matches."""
    sort = request.sort or default_sort
    column = columns[sort.lstrip("-")]
    descending = sort.startswith("-")
    order = [column.desc() if descending else column.asc()]
    if column is not tiebreak:
        order.append(tiebreak.desc() if descending else tiebreak.asc())
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    rows = session.exec(
        stmt.order_by(*order).offset(request.page * request.per_page).limit(request.per_page)
    ).all()
    return list(rows), int(total)
