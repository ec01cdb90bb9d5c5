"""`python manage.py fetch_model ltx`: download a model named by Hugging Face hub id (`CLIPCAST_MODELS=
ltx=Lightricks/LTX-Video`) into the hub cache, once per machine, so render workers load it without the network."""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandError

from generation import rendering
from generation.engine import EngineError
from generation.engine.hub import FetchFailed, HubModel, cached_snapshot, fetch, hub_cache_dir, offline


class Command(BaseCommand):
    help = "Download a model named by hub id (a key of CLIPCAST_MODELS, or the id itself) into the Hugging Face cache."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "model", nargs="?", default="default",
            help="a model key (default, or a key of CLIPCAST_MODELS) or a hub id such as Lightricks/LTX-Video",
        )

    def handle(self, *args, model: str, **options) -> None:
        for name in ("httpx", "httpx2", "httpcore"):  # one INFO line per request would bury the progress bars
            logging.getLogger(name).setLevel(logging.WARNING)
        registry = rendering.registry(allow_paths=True)
        try:
            name, source = registry.source_for(model)
        except EngineError as exc:
            raise CommandError(str(exc)) from None
        if not isinstance(source, HubModel):
            where = ("CLIPCAST_MODEL_PATH (e.g. CLIPCAST_MODEL_PATH=Lightricks/LTX-Video)" if name == "default"
                     else f"CLIPCAST_MODELS (e.g. CLIPCAST_MODELS={name}=Lightricks/LTX-Video)")
            raise CommandError(
                f"Model {name!r} is the local folder {source}: there is nothing to download. To have a model "
                f"fetched, name its hub id in {where}."
            )
        if cached_snapshot(source) is not None:
            try:
                info = registry.resolve(name)
            except EngineError:
                pass  # an interrupted download: fetching again completes it
            else:
                self.stdout.write(f"Model {name!r} ({source}) is already in the Hugging Face cache: {info.path}")
                return
        if not offline():
            self.stdout.write(f"Downloading {source} into {hub_cache_dir()} ...")
        try:
            fetch(source)
            info = registry.resolve(name)
        except FetchFailed as exc:
            raise CommandError(str(exc)) from None
        except EngineError as exc:
            raise CommandError(f"{source} was downloaded but cannot be rendered with: {exc}") from None
        self.stdout.write(f"Model {name!r} ({source}) is ready: {info.path} ({info.pipeline_class}). Render workers "
                          "on this machine load it from the cache, never from the network.")
