"""Command line: create an administrator, checkpoint and verify the audit chain, verify stored documents."""
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
        """Recompute the audit hash chain and check it against the signed checkpoints; exit 1 naming what is wrong."""
        from app.audit.checkpoints import verify_audit as check
        report = check()
        chain = report.chain
        if chain.ok:
            click.echo(f"audit chain OK: {chain.checked} events, head {chain.head}")
        else:
            click.echo(f"audit chain BROKEN at event {chain.broken_at}: {chain.reason}", err=True)
        for problem in report.problems:
            click.echo(f"audit chain {problem}", err=True)
        if report.latest is not None and report.ok:
            click.echo(f"checkpoints OK: {report.checkpoints} verified, the latest at event {report.latest.seq} "
                       f"signed {report.latest.at}")
        elif report.latest is None and not report.problems:
            click.echo("no checkpoint yet: a cut at the end of the chain cannot be detected until one is written "
                       "(`flask audit-checkpoint`, or the beat task)")
        if not report.ok:
            sys.exit(1)

    @app.cli.command("audit-checkpoint")
    def audit_checkpoint() -> None:
        """Verify the chain since the last checkpoint and append a signed checkpoint of its head."""
        from app.audit.checkpoints import log_path, write_checkpoint
        result = write_checkpoint()
        db.session.rollback()
        if not result.report.ok:
            click.echo(f"audit chain BROKEN at event {result.report.broken_at}: {result.report.reason}; "
                       "no checkpoint written", err=True)
            sys.exit(1)
        if result.checkpoint is None:
            click.echo("the audit log is empty: nothing to checkpoint")
        elif result.written:
            click.echo(f"checkpoint written to {log_path()}: event {result.checkpoint.seq}, head {result.checkpoint.hash}")
        else:
            click.echo(f"the head has not moved since the checkpoint at event {result.checkpoint.seq}")

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
