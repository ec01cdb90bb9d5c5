"""Tiny randomly initialised text-to-video pipelines, built from local configs (no hub), saved like real models.

Every stock text-to-video family, so the engine's generic path is proven: AnimateDiff (UNet + motion adapter),
AnimateDiff-SDXL (the bundled model's layout, with null components), TextToVideoSD (UNet3D), and the video
transformers with temporal VAEs and T5 encoders: CogVideoX, LTX-Video and Wan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from generation.engine import DeviceChoice, ModelRegistry, PipelineCache, choose_device


def _byte_level_vocab() -> dict[str, int]:
    """CLIP's byte-level alphabet (each byte, alone and as a word end) with no merges: every text tokenises."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    return {token: i for i, token in enumerate(tokens)}


def build_clip_tokenizer():
    from transformers import CLIPTokenizer

    return CLIPTokenizer(vocab=_byte_level_vocab(), merges=[], model_max_length=16)


def build_word_tokenizer():
    """A word-level tokenizer for the T5 encoder; unknown words map to <unk>."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["a", "the", "red", "green", "blue", "circle", "square", "moving", "left", "on", "black", "background"]
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(words)}}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=16
    )


def build_animatediff(folder: Path) -> Path:
    """Mirrors diffusers' tests/pipelines/animatediff/test_animatediff.py dummy components."""
    from diffusers import AnimateDiffPipeline, AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    blocks, cross = (8, 8), 8
    unet = UNet2DConditionModel(
        block_out_channels=blocks, layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=cross, norm_num_groups=2,
    )
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False)
    vae = AutoencoderKL(
        block_out_channels=blocks, in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4, norm_num_groups=2,
    )
    tokenizer = build_clip_tokenizer()
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=cross, intermediate_size=16,
            num_attention_heads=2, num_hidden_layers=2, vocab_size=len(tokenizer), max_position_embeddings=16,
        )
    )
    adapter = MotionAdapter(
        block_out_channels=blocks, motion_layers_per_block=1, motion_norm_num_groups=2, motion_num_attention_heads=2,
        motion_max_seq_length=24,
    )
    pipe = AnimateDiffPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, motion_adapter=adapter,
        scheduler=scheduler, feature_extractor=None, image_encoder=None,
    )
    pipe.save_pretrained(folder)
    defaults = {"guidance_scale": 3.0, "num_inference_steps": 3, "fps": 8, "height": 16, "width": 16, "max_frames": 24}
    (folder / "clipcast.json").write_text(json.dumps(defaults))
    return folder


def build_animatediff_sdxl(folder: Path) -> Path:
    """The bundled model's layout: AnimateDiff-SDXL with only the second text encoder (the first is saved as null,
    which stock `from_pretrained` refuses unless the loader passes it as None)."""
    from diffusers import AnimateDiffSDXLPipeline, AutoencoderKL, DDIMScheduler, UNetMotionModel
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    torch.manual_seed(0)
    dim, time_dim = 8, 4
    tokenizer = build_clip_tokenizer()
    text_encoder = CLIPTextModelWithProjection(
        CLIPTextConfig(
            bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=dim, intermediate_size=16, projection_dim=dim,
            num_attention_heads=2, num_hidden_layers=1, vocab_size=len(tokenizer), max_position_embeddings=16,
        )
    )
    unet = UNetMotionModel(
        sample_size=8, in_channels=4, out_channels=4, down_block_types=("DownBlockMotion", "CrossAttnDownBlockMotion"),
        up_block_types=("CrossAttnUpBlockMotion", "UpBlockMotion"), block_out_channels=(8, 16), layers_per_block=1,
        norm_num_groups=4, cross_attention_dim=dim, num_attention_heads=2, motion_num_attention_heads=2,
        motion_max_seq_length=16, addition_embed_type="text_time", addition_time_embed_dim=time_dim,
        projection_class_embeddings_input_dim=time_dim * 6 + dim,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 8), in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4, norm_num_groups=2,
    )
    pipe = AnimateDiffSDXLPipeline(
        vae=vae, text_encoder=None, text_encoder_2=text_encoder, tokenizer=None, tokenizer_2=tokenizer, unet=unet,
        motion_adapter=None, scheduler=DDIMScheduler(clip_sample=False, timestep_spacing="trailing"),
        force_zeros_for_empty_prompt=True,
    )
    pipe.save_pretrained(folder)
    return folder


def build_wan(folder: Path) -> Path:
    """Mirrors diffusers' tests/pipelines/wan/test_wan.py dummy components, with a local tokenizer."""
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    tokenizer = build_word_tokenizer()
    text_encoder = T5EncoderModel(
        T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                 relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    )
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    pipe = WanPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
    )
    pipe.save_pretrained(folder)
    return folder


def build_t5(tokenizer):
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(
        T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                 relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    )


def build_text_to_video_sd(folder: Path) -> Path:
    """Mirrors diffusers' tests/pipelines/text_to_video_synthesis dummy components (UNet3D, ModelScope layout)."""
    from diffusers import AutoencoderKL, DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet3DConditionModel(
        block_out_channels=(8, 8), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"), up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=8, attention_head_dim=4, norm_num_groups=2,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 8), in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4, norm_num_groups=2,
    )
    tokenizer = build_clip_tokenizer()
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=8, intermediate_size=16,
            num_attention_heads=2, num_hidden_layers=1, vocab_size=len(tokenizer), max_position_embeddings=16,
        )
    )
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False)
    pipe = TextToVideoSDPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler
    )
    pipe.save_pretrained(folder)
    return folder


def build_cogvideox(folder: Path) -> Path:
    """Mirrors diffusers' tests/pipelines/cogvideo/test_cogvideox.py dummy components. Its transformer reads at
    most 16 text tokens (max_text_seq_length), against the pipeline's default max_sequence_length of 226."""
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=8, in_channels=4, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=2, sample_height=2, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16,
    )
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4,
    )
    tokenizer = build_word_tokenizer()
    pipe = CogVideoXPipeline(
        tokenizer=tokenizer, text_encoder=build_t5(tokenizer), vae=vae, transformer=transformer,
        scheduler=CogVideoXDDIMScheduler(),
    )
    pipe.save_pretrained(folder)
    return folder


def build_ltx(folder: Path) -> Path:
    """Mirrors diffusers' tests/pipelines/ltx/test_ltx.py dummy components (this tiny VAE compresses time and
    space 4x; the real one 8x and 32x)."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4, attention_head_dim=8,
        cross_attention_dim=32, num_layers=1, caption_channels=32,
    )
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1), spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False), decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4, upsample_factor=(1,) * 4, timestep_conditioning=False, patch_size=1,
        patch_size_t=1, encoder_causal=True, decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    tokenizer = build_word_tokenizer()
    pipe = LTXPipeline(
        tokenizer=tokenizer, text_encoder=build_t5(tokenizer), vae=vae, transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(),
    )
    pipe.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> Iterator[None]:
    # The suite shares two cores with training jobs; tiny models gain nothing from more threads.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def animatediff_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_animatediff(tmp_path_factory.mktemp("animatediff"))


@pytest.fixture(scope="session")
def wan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wan(tmp_path_factory.mktemp("wan"))


@pytest.fixture(scope="session")
def sdxl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_animatediff_sdxl(tmp_path_factory.mktemp("animatediff-sdxl"))


@pytest.fixture(scope="session")
def text_to_video_sd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_text_to_video_sd(tmp_path_factory.mktemp("text-to-video-sd"))


@pytest.fixture(scope="session")
def cogvideox_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cogvideox(tmp_path_factory.mktemp("cogvideox"))


@pytest.fixture(scope="session")
def ltx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_ltx(tmp_path_factory.mktemp("ltx"))


@pytest.fixture(scope="session")
def family_dirs(
    text_to_video_sd_dir: Path, animatediff_dir: Path, cogvideox_dir: Path, ltx_dir: Path, wan_dir: Path
) -> dict[str, Path]:
    """One tiny folder per stock text-to-video family; only AnimateDiff's has a clipcast.json."""
    return {
        "text-to-video-sd": text_to_video_sd_dir, "animatediff": animatediff_dir, "cogvideox": cogvideox_dir,
        "ltx-video": ltx_dir, "wan": wan_dir,
    }


@pytest.fixture(scope="session")
def registry(animatediff_dir: Path, wan_dir: Path, sdxl_dir: Path) -> ModelRegistry:
    return ModelRegistry({"tiny": animatediff_dir, "tiny-wan": wan_dir, "tiny-sdxl": sdxl_dir}, default="tiny")


@pytest.fixture(scope="session")
def cpu() -> DeviceChoice:
    return choose_device("cpu", "fp32")


@pytest.fixture(scope="session")
def warm_cache() -> PipelineCache:
    """Shared by the render tests so the tiny pipelines load once (as in a worker); capacity for every family."""
    return PipelineCache(capacity=3)
