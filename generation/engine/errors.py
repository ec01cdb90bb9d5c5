"""One error family for the engine: every message says what went wrong and what to do about it."""

from __future__ import annotations


class EngineError(Exception):
    """Base class. `permanent` tells a task runner whether retrying the same input can ever succeed."""

    permanent = True


class ModelNotFound(EngineError):
    """The model key is unknown, or its folder does not exist."""


class ModelIncomplete(EngineError):
    """The folder exists but lacks model_index.json, a component, or a component's weights or config."""


class UnsupportedModel(EngineError):
    """The folder names a pipeline that stock diffusers cannot load (e.g. Hotshot-XL's own pipeline)."""


class InvalidRequest(EngineError):
    """A render request fails validation; `problems` lists every reason, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


class RenderCancelled(EngineError):
    """Raised from inside the denoising callback when the caller asked to stop."""

    def __init__(self, step: int = 0, total: int = 0) -> None:
        self.step, self.total = step, total
        super().__init__(f"Render cancelled after {step} of {total} denoising steps.")


class RenderFailed(EngineError):
    """The pipeline raised while rendering: the message names the model and the settings it was called with.
    Out of GPU memory is not permanent (another worker, or the same one later, may have room)."""

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        self.permanent = permanent
        super().__init__(message)


class ExportError(EngineError):
    """A video or image could not be written, or the written file does not meet X's rules."""


class DeviceUnavailable(EngineError):
    """The configured device or dtype cannot be used on this machine."""


class InvalidSetting(EngineError):
    """A performance setting has a value the engine does not know, or two settings contradict each other."""
