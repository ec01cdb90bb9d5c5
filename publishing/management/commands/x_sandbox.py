"""Run the X API v2 sandbox on 127.0.0.1 (for `make run` and manual checks)."""

from __future__ import annotations

import requests
from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import Workspace
from publishing.models import AccountStatus, AuthKind, XAccount
from publishing.sandbox import Config, make_server

DEMO_HANDLE = "clipcast_demo"


class Command(BaseCommand):
    help = "Serve the X sandbox; with --seed-demo, connect the demo workspace's X account to it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--db", default=str(settings.VAR_DIR / "x_sandbox.sqlite3"))
        parser.add_argument("--processing-secs", type=float, default=2.0)
        parser.add_argument("--seed-demo", action="store_true")

    def handle(self, *args, port: int, db: str, processing_secs: float, seed_demo: bool, **options) -> None:
        config = Config()
        config.update({"processing_secs": processing_secs})
        server = make_server("127.0.0.1", port, db, config)
        self.stdout.write(self.style.SUCCESS(f"X sandbox on {server.url}/ (posted clips are listed there)"))
        thread = server.start_in_thread()
        try:
            if seed_demo:
                self.seed_demo(server.url)
            while thread.is_alive():
                thread.join(timeout=1.0)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()

    def seed_demo(self, url: str) -> None:
        workspace = Workspace.objects.filter(slug="demo").first()
        if workspace is None:
            self.stdout.write("No demo workspace (run `manage.py seed_demo`): nothing to connect.")
            return
        body = {"username": DEMO_HANDLE, "name": "Clipcast demo", "consumer_key": settings.X_CONSUMER_KEY,
                "consumer_secret": settings.X_CONSUMER_SECRET}
        if settings.X_OAUTH2_CLIENT_ID:  # so "Connect with X" (OAuth 2.0) works against the sandbox too
            body.update(client_id=settings.X_OAUTH2_CLIENT_ID, client_secret=settings.X_OAUTH2_CLIENT_SECRET or None,
                        redirect_uri=settings.X_OAUTH2_REDIRECT_URI)
        response = requests.post(f"{url}/_sandbox/accounts", json=body, timeout=10)
        response.raise_for_status()
        creds = response.json()
        XAccount.objects.update_or_create(  # tokens are encrypted by the model's fields
            workspace=workspace, handle=DEMO_HANDLE,
            defaults={"auth_kind": AuthKind.OAUTH1, "x_user_id": creds["user_id"],
                      "access_token": creds["access_token"], "access_token_secret": creds["access_token_secret"],
                      "status": AccountStatus.ACTIVE, "status_reason": ""},
        )
        self.stdout.write(f"Demo X account @{DEMO_HANDLE} is connected to the sandbox.")
