"""`python manage.py render "a red circle moving left on a black background" --output out.mp4` — same engine code
as the render workers, with a progress bar."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from generation import rendering
from generation.engine import cli


class Command(BaseCommand):
    help = "Render one clip to an MP4 (and optionally a GIF and a poster) with the configured or a given model."

    def add_arguments(self, parser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args, **options) -> None:
        code = cli.run(options, registry=rendering.registry(allow_paths=True), device=rendering.device_choice())
        if code:
            raise CommandError("render failed (see the message above)", returncode=code)
