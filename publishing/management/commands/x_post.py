"""Post a video file to X (or any X-compatible server at the configured base URLs) with credentials from the
environment: X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET, or X_OAUTH2_ACCESS_TOKEN.

It goes the publisher's way (publishing.x.posting): transient errors are retried with the publisher's backoff up to
PUBLISH_MAX_ATTEMPTS, and after a create whose outcome is unknown it looks for the post by its media before
creating again, saying so."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from publishing.captions import validate_caption
from publishing.x import OAuth1Credentials, OAuth2Token, XClient, XError
from publishing.x.posting import post_video


class Command(BaseCommand):
    help = "Upload an MP4 and post it with a caption; prints upload progress and the post's URL."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--video", required=True, help="MP4 file (H.264, yuv420p, 0.5-140 s)")
        parser.add_argument("--text", required=True, help="the caption (280 weighted characters at most)")
        parser.add_argument("--no-ai-label", action="store_true", help="do not mark the media as made with AI")

    def handle(self, *args, video: str, text: str, no_ai_label: bool, **options) -> None:
        path = Path(video)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            caption = validate_caption(text)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        common = {"api_base_url": settings.X_API_BASE_URL, "upload_base_url": settings.X_UPLOAD_BASE_URL,
                  "timeout": settings.X_REQUEST_TIMEOUT, "connect_timeout": settings.X_CONNECT_TIMEOUT}
        env = os.environ
        if env.get("X_OAUTH2_ACCESS_TOKEN"):
            client = XClient(oauth2_token=OAuth2Token(env["X_OAUTH2_ACCESS_TOKEN"]), **common)
        else:
            missing = [n for n in ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
                       if not env.get(n)]
            if missing:
                raise CommandError(f"Set {', '.join(missing)} (OAuth 1.0a user context), or X_OAUTH2_ACCESS_TOKEN.")
            client = XClient(oauth1=OAuth1Credentials(env["X_CONSUMER_KEY"], env["X_CONSUMER_SECRET"],
                                                      env["X_ACCESS_TOKEN"], env["X_ACCESS_TOKEN_SECRET"]), **common)

        def progress(sent: int, total: int) -> None:
            self.stdout.write(f"\ruploading {sent * 100 // max(total, 1):3d}% ({sent}/{total} bytes)", ending="")
            self.stdout.flush()

        def report(line: str) -> None:
            self.stdout.write(f"\n{line}")

        try:
            with client:
                me = client.get_me()
                outcome = post_video(client, path, caption, made_with_ai=not no_ai_label,
                                     max_attempts=settings.PUBLISH_MAX_ATTEMPTS, user_id=me.id,
                                     max_wait_secs=settings.X_MEDIA_MAX_WAIT, progress=progress, report=report)
        except XError as exc:
            raise CommandError(f"X refused: {exc.message}") from exc
        url = f"{settings.X_WEB_BASE_URL.rstrip('/')}/{me.username}/status/{outcome.created.post.id}"
        self.stdout.write(self.style.SUCCESS(f"Posted: {url}"))
