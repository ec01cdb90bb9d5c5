"""How a post will look on X before it is scheduled: the caption with its weighted length and the links X makes of
URLs, hashtags and mentions, the video's poster and duration, and the AI label."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from core.xtext import segments
from generation.models import Clip
from publishing.captions import CaptionMeasure, measure

AI_LABEL = "Made with AI"


@dataclass
class PostPreview:
    clip: Clip
    caption: str
    counter: CaptionMeasure
    handle: str = ""
    runs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def poster_url(self) -> str | None:
        return self.clip.poster_url if self.clip.poster else None

    @property
    def video_url(self) -> str | None:
        return self.clip.video_url if self.clip.video else None

    @property
    def duration(self) -> str:
        """The duration X shows on the video, m:ss."""
        seconds = round(self.clip.duration_s or 0)
        return f"{seconds // 60}:{seconds % 60:02d}"

    @property
    def ai_label(self) -> str:
        return AI_LABEL if settings.X_MADE_WITH_AI else ""

    @property
    def problem(self) -> str | None:
        """Why X would refuse the caption (a message to act on), or None when it fits."""
        if not self.counter.text.strip():
            return "The caption is empty: write some text for the post."
        if self.counter.refused_characters:
            return "The caption contains characters X refuses: remove them."
        if self.counter.over_by:
            return f"{self.counter.over_by} over X's limit: shorten the caption."
        return None


def post_preview(clip: Clip, caption: str, handle: str = "") -> PostPreview:
    counter = measure(caption)
    return PostPreview(clip=clip, caption=counter.text, counter=counter, handle=handle, runs=segments(counter.text))
