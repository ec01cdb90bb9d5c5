"""Text-to-clip with Hotshot-XL: SDXL's two text encoders and micro-conditioning, Hotshot-XL's UNet, any
diffusers scheduler the folder names (Hotshot-XL's authors recommend Euler-Ancestral), frames decoded one by one.

Defaults are Hotshot-XL's native clip: 8 frames (1 second at 8 fps) at 512x512; it was trained on the sizes in
`HOTSHOT_XL.sizes` (aspect-ratio buckets around 512x512).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from diffusers import AutoencoderKL, DiffusionPipeline
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor

from generation.engine.hotshot_xl.unet import HotshotXLUNet

NATIVE_FRAMES, NATIVE_SIZE = 8, 512


@dataclass
class HotshotXLOutput(BaseOutput):
    frames: np.ndarray | torch.Tensor  # (batch, frames, height, width, 3) in 0..1 for "np"; latents for "latent"


class HotshotXLPipeline(DiffusionPipeline):
    model_cpu_offload_seq = "text_encoder->text_encoder_2->unet->vae"
    _optional_components = ["tokenizer", "text_encoder"]
    _callback_tensor_inputs = ["latents"]

    def __init__(self, vae: AutoencoderKL, text_encoder: Any, text_encoder_2: Any, tokenizer: Any,
                 tokenizer_2: Any, unet: HotshotXLUNet, scheduler: Any,
                 force_zeros_for_empty_prompt: bool = True) -> None:
        super().__init__()
        self.register_modules(vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2, tokenizer=tokenizer,
                              tokenizer_2=tokenizer_2, unet=unet, scheduler=scheduler)
        self.register_to_config(force_zeros_for_empty_prompt=force_zeros_for_empty_prompt)
        self.vae_scale_factor = 2 ** (len(vae.config.block_out_channels) - 1)

    def check_inputs(self, prompts: list[str], height: int, width: int, num_frames: int) -> None:
        if not prompts or not all(isinstance(p, str) for p in prompts):
            raise ValueError("Give a prompt (text, or a list of texts).")
        if height % self.vae_scale_factor or width % self.vae_scale_factor:
            raise ValueError(f"Height and width must be multiples of {self.vae_scale_factor}; got {width}x{height}.")
        if num_frames < 1:
            raise ValueError(f"Render at least one frame; got {num_frames}.")

    def _encoders(self) -> list[tuple[Any, Any]]:
        pairs = [(self.tokenizer, self.text_encoder), (self.tokenizer_2, self.text_encoder_2)]
        return [(tok, enc) for tok, enc in pairs if tok is not None and enc is not None]

    def _encode(self, texts: list[str], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """SDXL's conditioning: each encoder's penultimate hidden states, concatenated along channels, and the
        second encoder's projected pooled embedding."""
        states, pooled = [], None
        for tokenizer, encoder in self._encoders():
            ids = tokenizer(texts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                            return_tensors="pt").input_ids.to(device)
            out = encoder(ids, output_hidden_states=True)
            states.append(out.hidden_states[-2])
            pooled = out[0]  # the last encoder (CLIPTextModelWithProjection) gives the pooled embedding
        return torch.cat(states, dim=-1), pooled

    def encode_prompt(self, prompts: list[str], negatives: list[str] | None, device: torch.device,
                      guided: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompt embeddings and pooled embeddings; with guidance, the unconditional half comes first."""
        embeds, pooled = self._encode(prompts, device)
        if not guided:
            return embeds, pooled
        if negatives is None and self.config.force_zeros_for_empty_prompt:
            neg_embeds, neg_pooled = torch.zeros_like(embeds), torch.zeros_like(pooled)
        else:
            neg_embeds, neg_pooled = self._encode(negatives or [""] * len(prompts), device)
        return torch.cat([neg_embeds, embeds]), torch.cat([neg_pooled, pooled])

    def prepare_latents(self, batch: int, frames: int, height: int, width: int, dtype: torch.dtype,
                        device: torch.device, generator: Any, latents: torch.Tensor | None) -> torch.Tensor:
        shape = (batch, self.unet.config.in_channels, frames, height // self.vae_scale_factor,
                 width // self.vae_scale_factor)
        if latents is None:
            latents = randn_tensor(shape, generator=generator, device=device, dtype=dtype)
        return latents.to(device=device, dtype=dtype) * self.scheduler.init_noise_sigma

    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Frame by frame, as Hotshot-XL does: the peak memory of one SDXL image decode, whatever the clip length.
        SDXL's VAE overflows in fp16, so it decodes in fp32 when its config asks for it."""
        batch, _, frames, _, _ = latents.shape
        vae = self.vae
        dtype = torch.float32 if vae.dtype == torch.float16 and vae.config.get("force_upcast", False) else vae.dtype
        if dtype != vae.dtype:
            vae.to(dtype)
        flat = latents.transpose(1, 2).reshape(batch * frames, *latents.shape[1:2], *latents.shape[3:])
        flat = flat.to(dtype) / vae.config.scaling_factor
        images = torch.cat([vae.decode(flat[i : i + 1]).sample for i in range(flat.shape[0])])
        images = (images / 2 + 0.5).clamp(0, 1)
        return images.reshape(batch, frames, *images.shape[1:]).permute(0, 1, 3, 4, 2)

    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str],
        negative_prompt: str | list[str] | None = None,
        num_frames: int = NATIVE_FRAMES,
        height: int = NATIVE_SIZE,
        width: int = NATIVE_SIZE,
        num_inference_steps: int = 30,
        guidance_scale: float = 5.0,
        guidance_rescale: float = 0.0,
        original_size: tuple[int, int] | None = None,
        crops_coords_top_left: tuple[int, int] = (0, 0),
        target_size: tuple[int, int] | None = None,
        generator: torch.Generator | list[torch.Generator] | None = None,
        latents: torch.Tensor | None = None,
        output_type: str = "np",
        return_dict: bool = True,
        callback_on_step_end: Callable[[Any, int, Any, dict], dict] | None = None,
        callback_on_step_end_tensor_inputs: list[str] | None = None,
    ) -> HotshotXLOutput | tuple:
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        negatives = None if negative_prompt is None else (
            [negative_prompt] * len(prompts) if isinstance(negative_prompt, str) else list(negative_prompt)
        )
        self.check_inputs(prompts, height, width, num_frames)
        device = self._execution_device
        guided = guidance_scale > 1.0
        embeds, pooled = self.encode_prompt(prompts, negatives, device, guided)

        # SDXL micro-conditioning: (original h, w, crop top, left, target h, w), each as a sinusoidal embedding.
        size_ids = [*(original_size or (height, width)), *crops_coords_top_left, *(target_size or (height, width))]
        time_ids = torch.tensor([size_ids], dtype=embeds.dtype, device=device).repeat(embeds.shape[0], 1)

        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        self._num_timesteps = len(timesteps)
        latents = self.prepare_latents(len(prompts), num_frames, height, width, embeds.dtype, device, generator,
                                       latents)
        takes_generator = "generator" in inspect.signature(self.scheduler.step).parameters
        step_kwargs = {"generator": generator} if takes_generator else {}

        for i, t in enumerate(timesteps):
            model_input = torch.cat([latents] * 2) if guided else latents
            model_input = self.scheduler.scale_model_input(model_input, t)
            noise = self.unet(model_input, t, embeds, pooled, time_ids, temporal=num_frames > 1)
            if guided:
                uncond, cond = noise.chunk(2)
                noise = uncond + guidance_scale * (cond - uncond)
                if guidance_rescale > 0:
                    dims = list(range(1, cond.ndim))
                    rescaled = noise * (cond.std(dim=dims, keepdim=True) / noise.std(dim=dims, keepdim=True))
                    noise = guidance_rescale * rescaled + (1 - guidance_rescale) * noise
            latents = self.scheduler.step(noise, t, latents, **step_kwargs, return_dict=False)[0]
            if callback_on_step_end is not None:
                wanted = {"latents": latents} if "latents" in (callback_on_step_end_tensor_inputs or []) else {}
                latents = callback_on_step_end(self, i, t, wanted).get("latents", latents)

        if output_type == "latent":
            frames: np.ndarray | torch.Tensor = latents
        else:
            video = self.decode_latents(latents).float().cpu()
            frames = video.numpy() if output_type == "np" else video
        self.maybe_free_model_hooks()
        if not return_dict:
            return (frames,)
        return HotshotXLOutput(frames=frames)
