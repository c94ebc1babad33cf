"""create_<thing>() helpers that build committed test data through the real operations."""
from __future__ import annotations

import itertools
import time

import sqlalchemy as sa
from flask import current_app

from app.auth.models import Role, User
from app.auth.operations import create_staff_user, mark_email_verified, register_vendor
from app.extensions import db

PASSWORD = "correct horse battery 42"
_seq = itertools.count(1)


def create_staff(role: Role = Role.officer, **overrides) -> User:
    n = next(_seq)
    user = create_staff_user(name=overrides.get("name", f"{role.value.title()} {n}"),
                             email=overrides.get("email", f"{role.value}{n}@gov.example"),
                             password=overrides.get("password", PASSWORD), role=role, actor="test")
    db.session.commit()
    return user


def opening_officers(*named: User) -> list[User]:
    """Officers to name at publication: those given and every other active officer that exists now, topped up
    with new officers to the configured minimum (OPENING_OFFICERS_MIN)."""
    chosen = {u.id: u for u in named}
    for user in db.session.scalars(sa.select(User).where(User.role == Role.officer, User.is_enabled.is_(True))):
        chosen.setdefault(user.id, user)
    while len(chosen) < current_app.config["OPENING_OFFICERS_MIN"]:
        user = create_staff(Role.officer)
        chosen[user.id] = user
    return list(chosen.values())


def create_vendor_user(*, verified: bool = True, locale: str = "en", **overrides) -> User:
    n = next(_seq)
    user = register_vendor(
        name_en=overrides.get("name_en", f"Vendor {n} Limited"), name_zh=overrides.get("name_zh", f"供應商{n}有限公司"),
        br_number=overrides.get("br_number", f"{31000000 + n:08d}"), address="1 Harbour Road, Wan Chai, Hong Kong",
        contact_name="Chan Tai Man", contact_phone="21234567", name=overrides.get("name", f"Vendor User {n}"),
        email=overrides.get("email", f"user{n}@vendor{n}.example"), password=overrides.get("password", PASSWORD),
        locale=locale)
    if verified:
        mark_email_verified(user, actor=user)  # claims the company's BR number, as the emailed link does
    db.session.commit()
    return user


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    """Poll until predicate() is truthy (a real Celery worker works asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        db.session.rollback()
        time.sleep(interval)
