"""The eoi area's commands: re-keying an exercise's opening before closing (issue 9, docs/sealing.md)."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask

from app.auth.models import User
from app.errors import DomainError
from app.extensions import db


def register_cli(app: Flask) -> None:
    if "rekey-opening" in app.cli.commands:
        return

    @app.cli.command("rekey-opening")
    @click.option("--exercise", "reference", required=True, help="The exercise's reference.")
    @click.option("--by", "first_email", required=True, help="A named officer who can still take part.")
    @click.option("--second", "second_email", required=True, help="A second, different named officer.")
    @click.option("--officer", "officer_emails", multiple=True, required=True,
                  help="An officer to name (repeat; at least OPENING_OFFICERS_MIN, each with an opening passphrase).")
    def rekey_opening(reference: str, first_email: str, second_email: str, officer_emails: tuple[str, ...]) -> None:
        """Before closing, two named officers (each typing its own opening passphrase) name the officers who open
        the box afresh: new opening keys, split among them; every proposal re-sealed to them."""
        from eoi import operations as ops
        from eoi.models import Exercise

        def user(email: str) -> User:
            found = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
            if found is None:
                raise click.ClickException(f"no account {email}")
            return found

        exercise = db.session.scalar(sa.select(Exercise).where(Exercise.reference == reference))
        if exercise is None:
            raise click.ClickException(f"no exercise {reference}")
        first, second = user(first_email), user(second_email)
        first_phrase = click.prompt(f"Opening passphrase of {first.email}", hide_input=True)
        second_phrase = click.prompt(f"Opening passphrase of {second.email}", hide_input=True)
        try:
            named = ops.rekey_opening(exercise, [user(e) for e in officer_emails], actor=first, passphrase=first_phrase,
                                      second=second, second_passphrase=second_phrase)
        except DomainError as refusal:
            db.session.rollback()
            for recorder in refusal.after_rollback:
                recorder()
            db.session.commit()
            raise click.ClickException(refusal.message) from None
        db.session.commit()
        click.echo(f"{exercise.reference}: opening officers now {', '.join(str(o.user_id) for o in named)}; "
                   f"proposals re-sealed to the new opening keys")
