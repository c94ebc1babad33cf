"""Public pages for visitors who are not signed in: conditional GET (ETag, 304) and a rendered-page cache.

On publication day every vendor opens the same exercise list and page. For a visitor who is not signed in such a
page depends only on public content, the language, the URL and the clock, so:

- a model whose rows public pages show says so with `__public_content__ = True`; a commit that added, changed or
  deleted such a row gives the public content a new version (one row of `cache_versions`, written right after the
  commit in a transaction of its own, so it takes no lock inside the writer's transaction);
- a `@public_page` view is rendered once per process for (version, language, URL) and kept until the version
  changes, the clock changes the page (`next_change`: a closing time) or MAX_AGE passes; every answer carries a
  strong ETag (the body's hash) and `Cache-Control: public, no-cache`, so a browser revalidates every time and
  gets 304 Not Modified while nothing changed;
- a signed-in user's page differs (their company's panel, the sign-out form): never cached, never 304, and
  `Cache-Control: private, no-store`; nor is a page that shows flashed messages.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Callable, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite
from flask import current_app, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import now_utc
from app.extensions import db

logger = logging.getLogger(__name__)

PUBLIC = "public"
MAX_AGE = timedelta(minutes=5)   # a bound on staleness should a version bump ever be lost (a crash right after commit)
MAX_ENTRIES = 256                # per process; pages are 10-60 kB
_CHANGED_KEY = "tenderbox_public_changed"


class CacheVersion(db.Model):
    """The current version of a body of cached content (one row per name; a random token, never reused)."""
    __tablename__ = "cache_versions"

    name: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    version: so.Mapped[str] = so.mapped_column(sa.String(32))

    def __repr__(self) -> str:
        return f"<CacheVersion {self.name} {self.version}>"


# --- noticing changes -----------------------------------------------------------------------------------------

def _is_public(obj) -> bool:
    return getattr(type(obj), "__public_content__", False)


@event.listens_for(Session, "before_flush")
def _note_public_changes(session: Session, _flush_context, _instances) -> None:
    if session.info.get(_CHANGED_KEY):
        return
    if any(_is_public(obj) for obj in session.new) or any(_is_public(obj) for obj in session.deleted) \
            or any(_is_public(obj) and session.is_modified(obj) for obj in session.dirty):
        session.info[_CHANGED_KEY] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state) -> None:
    """An ORM-enabled UPDATE or DELETE statement bypasses the flush."""
    if (state.is_update or state.is_delete) and any(getattr(m.class_, "__public_content__", False)
                                                    for m in state.all_mappers):
        state.session.info[_CHANGED_KEY] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if not session.info.pop(_CHANGED_KEY, False):
        return
    try:
        bump_public_version(session.get_bind())
    except Exception:  # the work is committed; a lost bump only leaves pages stale for MAX_AGE at most
        logger.exception("could not bump the public content version")


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CHANGED_KEY, None)


def bump_public_version(bind) -> str:
    """Give public content a new version (a random token: a restored or truncated table never reuses one)."""
    token = uuid.uuid4().hex
    table = CacheVersion.__table__
    with bind.begin() as conn:
        if conn.dialect.name in ("postgresql", "sqlite"):
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            conn.execute(insert(table).values(name=PUBLIC, version=token)
                         .on_conflict_do_update(index_elements=["name"], set_={"version": token}))
        elif conn.execute(table.update().where(table.c.name == PUBLIC).values(version=token)).rowcount == 0:
            conn.execute(table.insert().values(name=PUBLIC, version=token))
    return token


def public_version() -> Optional[str]:
    """The current version of public content (None before anything public was ever committed).

    On PostgreSQL it is read outside the request's transaction, in autocommit: a cached page then costs one round
    trip, not four (BEGIN, the query, ROLLBACK). It is read before anything the page shows, so a page rendered from
    newer data than its version says is only re-rendered once more, never kept stale."""
    query = sa.select(CacheVersion.version).where(CacheVersion.name == PUBLIC)
    if db.engine.dialect.name != "postgresql":  # SQLite's transactions begin IMMEDIATE (a write lock): use the session
        return db.session.scalar(query)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return conn.scalar(query)


# --- the per-process cache of rendered pages --------------------------------------------------------------------

@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    mimetype: str
    until: datetime


class PageCache:
    """Rendered pages of one content version, least recently used first out; thread-safe (gthread workers)."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries, self.version = max_entries, None
        self._pages: OrderedDict[tuple, CachedPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: str, key: tuple, now: datetime) -> CachedPage | None:
        with self._lock:
            if version != self.version:
                self._pages.clear()
                self.version = version
                return None
            page = self._pages.get(key)
            if page is None or now >= page.until:
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, version: str, key: tuple, page: CachedPage) -> None:
        with self._lock:
            if version != self.version:
                return  # the content changed while this page was rendered
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)


def page_cache() -> PageCache:
    return current_app.extensions.setdefault("public_pages", PageCache())


# --- the decorator ----------------------------------------------------------------------------------------------

def public_page(next_change: Callable[[datetime], Optional[datetime]]):
    """Serve a public GET view as described above. next_change(now) is the next moment the clock alone changes
    what the view renders (None: never)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.is_authenticated or session.get("_flashes"):
                response = make_response(view(*args, **kwargs))
                response.headers["Cache-Control"] = "private, no-store"
                return response
            version, now = public_version(), now_utc()
            key = (str(get_locale()), request.full_path)
            page = page_cache().get(version, key, now) if version else None
            if page is None:
                response = make_response(view(*args, **kwargs))
                if response.status_code != 200 or response.is_streamed:
                    return response  # a 404 or a redirect: answered as is, not kept
                body = response.get_data()
                page = CachedPage(body, hashlib.sha256(body).hexdigest()[:32], response.mimetype,
                                  min(filter(None, (next_change(now), now + MAX_AGE))))
                if version:
                    page_cache().put(version, key, page)
            return _answer(page)
        return wrapped
    return decorator


def _answer(page: CachedPage):
    response = current_app.response_class(page.body, mimetype=page.mimetype)
    response.set_etag(page.etag)
    response.headers["Cache-Control"] = "public, no-cache"
    response.vary.update(("Accept-Language", "Cookie"))  # the language comes from either
    return response.make_conditional(request)
