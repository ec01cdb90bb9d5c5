"""Clipcast's render engine: model registry, warm pipelines, render(), video export. Imports nothing from Django."""

from __future__ import annotations

from generation.engine.device import DeviceChoice, choose_device
from generation.engine.errors import (
    DeviceUnavailable,
    EngineError,
    ExportError,
    InvalidRequest,
    InvalidSetting,
    ModelIncomplete,
    ModelNotFound,
    RenderCancelled,
    RenderFailed,
    UnsupportedModel,
)
from generation.engine.export import (
    ExportedClip,
    VideoInfo,
    export_clip,
    probe_video,
    write_gif,
    write_mp4,
    write_poster,
)
from generation.engine.lora import InvalidLora, LoraCheck, LoraWeights, apply_loras, check_lora, read_header
from generation.engine.performance import PerformanceSettings
from generation.engine.pipeline_cache import LoadedPipeline, PipelineCache, default_cache
from generation.engine.registry import BUNDLED_KEY, BUNDLED_PATH, ModelInfo, ModelRegistry, inspect_model, weights_hash
from generation.engine.render import RenderResult, library_versions, prepare, render, render_batch, warm
from generation.engine.request import RenderRequest, validate
from generation.engine.vocabulary import Vocabulary, words_of

__all__ = [
    "BUNDLED_KEY",
    "BUNDLED_PATH",
    "DeviceChoice",
    "DeviceUnavailable",
    "EngineError",
    "ExportError",
    "ExportedClip",
    "InvalidLora",
    "InvalidRequest",
    "InvalidSetting",
    "LoadedPipeline",
    "LoraCheck",
    "LoraWeights",
    "ModelIncomplete",
    "ModelInfo",
    "ModelNotFound",
    "ModelRegistry",
    "PerformanceSettings",
    "PipelineCache",
    "RenderCancelled",
    "RenderFailed",
    "RenderRequest",
    "RenderResult",
    "UnsupportedModel",
    "VideoInfo",
    "Vocabulary",
    "apply_loras",
    "check_lora",
    "choose_device",
    "default_cache",
    "export_clip",
    "inspect_model",
    "library_versions",
    "prepare",
    "probe_video",
    "read_header",
    "render",
    "render_batch",
    "validate",
    "warm",
    "weights_hash",
    "words_of",
    "write_gif",
    "write_mp4",
    "write_poster",
]
