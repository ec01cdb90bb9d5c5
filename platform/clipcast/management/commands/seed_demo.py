"""Create (or leave as it is) a demo workspace, logins and campaign so `make run` is usable at once."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Role, Workspace
from campaigns.models import Campaign, CampaignStatus, CaptionTemplate, PromptTemplate

DEMO_PROMPT = "a {colour} {shape} {motion} on a {background} background"
DEMO_VARIABLES = {
    "colour": ["red", "green", "blue", "yellow"],
    "shape": ["circle", "square", "triangle"],
    "motion": ["moving left", "moving right", "growing"],
    "background": ["black", "white"],
}


class Command(BaseCommand):
    help = "Seed an idempotent demo: a workspace, an admin and a marketer login, one campaign with templates."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default=os.environ.get("CLIPCAST_DEMO_PASSWORD", "clipcast-demo"))
        parser.add_argument("--url", default=os.environ.get("SITE_URL", "http://127.0.0.1:8000"))

    @transaction.atomic
    def handle(self, *args, password: str, url: str, **options) -> None:
        users = get_user_model()
        admin, admin_created = users.objects.get_or_create(
            username="admin", defaults={"email": "admin@example.com", "is_staff": True, "is_superuser": True}
        )
        marketer, marketer_created = users.objects.get_or_create(
            username="marketer", defaults={"email": "marketer@example.com", "first_name": "Demo"}
        )
        if marketer.is_staff:
            # Older seeds made the marketer staff: the dashboard needs no admin access, so take it back.
            marketer.is_staff = False
            marketer.save(update_fields=["is_staff"])
        for user, created in ((admin, admin_created), (marketer, marketer_created)):
            if created:
                user.set_password(password)
                user.save()
        workspace, _ = Workspace.objects.get_or_create(
            slug="demo", defaults={"name": "Demo workspace", "timezone": "Europe/Berlin"}
        )
        Membership.objects.get_or_create(user=marketer, workspace=workspace, defaults={"role": Role.OWNER})
        Membership.objects.get_or_create(user=admin, workspace=workspace, defaults={"role": Role.OWNER})
        campaign, _ = Campaign.objects.get_or_create(
            workspace=workspace,
            name="Shapes launch",
            defaults={"status": CampaignStatus.ACTIVE, "timezone": "Europe/Berlin", "guidance": 4.0},
        )
        PromptTemplate.objects.get_or_create(
            campaign=campaign, name="Moving shapes", defaults={"body": DEMO_PROMPT, "variables": DEMO_VARIABLES}
        )
        CaptionTemplate.objects.get_or_create(
            campaign=campaign,
            name="Default",
            defaults={"body": "A {colour} {shape}, {motion}. Made with Clipcast.", "hashtags": "#clipcast #aivideo"},
        )
        self.stdout.write(self.style.SUCCESS(f"Demo ready at {url}"))
        if marketer_created or admin_created:
            self.stdout.write(f"  marketer login: marketer / {password}   (admin login: admin / {password})")
        else:
            self.stdout.write("  logins: marketer and admin (passwords unchanged since they were created)")
