"""Management steps the scale-out scenario runs on the web host (the database is reachable only from the hosts).

    python -m tests.scaleout.site setup X_URL PASSWORD   -> JSON: token, template, account, x_user_id
    python -m tests.scaleout.site facts                  -> JSON: every clip and post as the database has them
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta

import django

CONSUMER = {"consumer_key": "clipcast-scaleout-consumer", "consumer_secret": "clipcast-scaleout-consumer-secret"}


def setup(x_url: str, password: str) -> dict:
    import requests
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from accounts.models import Workspace
    from campaigns.models import PromptTemplate
    from publishing.models import AuthKind, XAccount

    call_command("migrate", "--noinput", verbosity=0)
    # As keywords: a random password may start with "-", which argparse would read as an option.
    call_command("seed_demo", password=password, url=os.environ["SITE_URL"], verbosity=0)
    workspace = Workspace.objects.get(slug="demo")
    template = PromptTemplate.objects.get(campaign__workspace=workspace, name="Moving shapes")
    token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username="marketer"))
    response = requests.post(f"{x_url}/_sandbox/accounts", timeout=10,
                             json={**CONSUMER, "username": "cc_scaleout", "post_limit": 100_000,
                                   "daily_post_limit": 100_000})
    if response.status_code not in (200, 201):
        raise SystemExit(f"the sandbox refused the account: {response.status_code} {response.text[:500]}")
    creds = response.json()
    account = XAccount.objects.create(
        workspace=workspace, handle=creds["username"], x_user_id=creds["user_id"], auth_kind=AuthKind.OAUTH1,
        access_token=creds["access_token"], access_token_secret=creds["access_token_secret"],
        min_post_gap=timedelta(0),
    )
    return {"token": token.key, "template": template.pk, "campaign": template.campaign_id, "account": account.pk,
            "x_user_id": creds["user_id"], "username": "marketer"}


def facts() -> dict:
    from generation.models import Clip
    from publishing.models import Post

    clips = list(Clip.objects.order_by("pk").values("id", "status", "attempts", "worker", "video", "gif", "poster",
                                                    "review_status", "error"))
    posts = list(Post.objects.order_by("pk").values("id", "clip_id", "status", "x_post_id", "media_id", "attempts",
                                                    "last_error"))
    return {"clips": clips, "posts": posts}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clipcast.settings")
    django.setup()
    result = setup(argv[1], argv[2]) if argv[0] == "setup" else facts()
    print("SCALEOUT-JSON " + json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
