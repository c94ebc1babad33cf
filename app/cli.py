"""Command line: create an administrator, verify the audit chain and stored documents."""
from __future__ import annotations

import sys

import click
from flask import Flask

from app.extensions import db


def register_cli(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--name", default="Administrator")
    @click.password_option()
    def create_admin(email: str, name: str, password: str) -> None:
        """Create an administrator account."""
        from app.auth.models import Role
        from app.auth.operations import create_staff_user
        from app.auth.passwords import password_problem
        if problem := password_problem(password, email=email):
            raise click.ClickException(f"password rejected: {problem.replace('_', ' ')}")
        import sqlalchemy as sa
        from app.auth.models import User
        if db.session.scalar(sa.select(User.id).where(User.email == email.strip().lower())):
            raise click.ClickException(f"an account with the email address {email.strip().lower()} already exists")
        user = create_staff_user(name=name, email=email, password=password, role=Role.admin, actor="cli")
        db.session.commit()
        click.echo(f"administrator {user.email} created")

    @app.cli.command("verify-audit")
    def verify_audit() -> None:
        """Recompute the audit hash chain; exit 1 naming the first broken link."""
        from app.audit import verify_chain
        report = verify_chain()
        if report.ok:
            click.echo(f"audit chain OK: {report.checked} events, head {report.head}")
            return
        click.echo(f"audit chain BROKEN at event {report.broken_at}: {report.reason}", err=True)
        sys.exit(1)

    @app.cli.command("verify-documents")
    def verify_documents() -> None:
        """Re-hash every stored document against its recorded SHA-256."""
        from app.documents.service import verify_documents as check
        problems = check()
        for doc, problem in problems:
            click.echo(f"document {doc.id} ({doc.kind}): {problem}", err=True)
        if problems:
            sys.exit(1)
        click.echo("all stored documents match their SHA-256")
