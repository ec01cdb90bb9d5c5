"""Tiny diffusers components built from local configs (no hub access) and the pipeline that holds them.

Family: AnimateDiff-SDXL (`AnimateDiffSDXLPipeline`: SDXL-style UNet + motion modules = `UNetMotionModel`),
the same layout as Hotshot-XL. Only the second text encoder is used (as in the SDXL refiner): its pooled
embedding is added to the timestep embedding (`addition_embed_type="text_time"`), a global conditioning
path that carries background, colour, shape and motion far faster than cross-attention alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import AnimateDiffSDXLPipeline, AutoencoderKL, DDIMScheduler, MotionAdapter, UNetMotionModel
from diffusers.models.attention_processor import AttnProcessor
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

from training.data import MAX_FRAMES, SIZE, vocabulary_corpus

MAX_TOKENS = 24
TEXT_DIM = 64
LATENT_CHANNELS = 8  # 8x8x8 latents: 4 channels could not hold a shape's corners (circle vs square)
ADD_TIME_DIM = 8  # SDXL's size/crop conditioning (6 numbers), constant here; kept small
BOS, EOS, UNK = "<|startoftext|>", "<|endoftext|>", "<|unk|>"
# CLIP's own pre-tokenisation, so that `CLIPTokenizer` rebuilds exactly this BPE from vocab + merges.
_CLIP_SPLIT = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def canonical_ids(vocab: dict[str, int]) -> dict[str, int]:
    """The trained vocabulary renumbered: special tokens, then every caption word, then the rest, each sorted.

    The BPE trainer breaks ties between equally frequent pairs differently in every process (all caption words are
    equally frequent), so its ids move from run to run: a seeded run was not repeatable, and a stage resumed in a new
    process read the captions with other ids than it was trained on. Caption words are whole tokens in every run, so
    numbering them first makes their ids the same in every run.
    """
    words = sorted({w + "</w>" for w in vocabulary_corpus()} & vocab.keys())
    rest = sorted(vocab.keys() - {BOS, EOS, UNK} - set(words))
    return {token: i for i, token in enumerate([BOS, EOS, UNK, *words, *rest])}


def build_tokenizer() -> CLIPTokenizer:
    """A byte-level BPE trained with `tokenizers` on the caption words: every caption word is one token."""
    bpe = Tokenizer(models.BPE(unk_token=UNK, end_of_word_suffix="</w>", continuing_subword_prefix=""))
    bpe.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=2000,
        special_tokens=[BOS, EOS, UNK],
        end_of_word_suffix="</w>",
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(vocabulary_corpus() * 4, trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split()) for m in model["merges"]]
    return CLIPTokenizer(
        vocab=canonical_ids(model["vocab"]),
        merges=merges,
        unk_token=UNK,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=EOS,
        model_max_length=MAX_TOKENS,
    )


def build_text_encoder(vocab_size: int) -> CLIPTextModelWithProjection:
    config = CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=TEXT_DIM,
        intermediate_size=TEXT_DIM * 4,
        num_hidden_layers=3,
        num_attention_heads=4,
        max_position_embeddings=MAX_TOKENS,
        projection_dim=TEXT_DIM,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    return CLIPTextModelWithProjection(config)


def build_vae() -> AutoencoderKL:
    """8x downsampling: 64x64x3 frames <-> 8x8x8 latents."""
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 32, 64, 64),
        layers_per_block=1,
        latent_channels=LATENT_CHANNELS,
        norm_num_groups=2,  # few groups: GroupNorm over flat colour fields must not erase the colour
        sample_size=SIZE,
    )


UNET_CHANNELS = (32, 64)


def build_unet(channels: tuple[int, int] = UNET_CHANNELS) -> UNetMotionModel:
    return UNetMotionModel(
        sample_size=SIZE // 8,
        in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS,
        # No attention at 8x8 (the AnimateDiff/Hotshot layout keeps the cost at low resolution).
        down_block_types=("DownBlockMotion", "CrossAttnDownBlockMotion"),
        up_block_types=("CrossAttnUpBlockMotion", "UpBlockMotion"),
        block_out_channels=tuple(channels),
        layers_per_block=1,
        norm_num_groups=4,  # few groups, as in the autoencoder: flat colour fields survive the norm
        cross_attention_dim=TEXT_DIM,
        num_attention_heads=2,
        motion_num_attention_heads=2,
        motion_max_seq_length=32,
        use_motion_mid_block=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=ADD_TIME_DIM,
        projection_class_embeddings_input_dim=ADD_TIME_DIM * 6 + TEXT_DIM,
    )


def use_plain_attention(unet: UNetMotionModel) -> UNetMotionModel:
    """Plain softmax attention for training: the same maths, about 10% faster per step on 2 CPU cores than torch's
    fused kernel, whose tiling does not pay at 4x4 latents and 8-24 frames. Not saved: a released folder keeps
    the default processors."""
    unet.set_attn_processor(AttnProcessor())
    return unet


def build_scheduler() -> DDIMScheduler:
    return DDIMScheduler(
        num_train_timesteps=1000,
        beta_schedule="linear",
        beta_start=0.0001,
        beta_end=0.02,
        prediction_type="v_prediction",
        timestep_spacing="trailing",
        clip_sample=False,
        set_alpha_to_one=False,
    )


def motion_adapter_from(unet: UNetMotionModel) -> MotionAdapter:
    """The UNet's own motion modules as a `MotionAdapter`.

    `AnimateDiffSDXLPipeline` requires a `motion_adapter` component to load; it is only used when the UNet is a
    plain 2D one, so this copy is never run, but keeping the real weights makes it a faithful one.
    """
    adapter = MotionAdapter(
        block_out_channels=tuple(unet.config.block_out_channels),
        motion_layers_per_block=unet.config.layers_per_block,
        motion_num_attention_heads=unet.config.motion_num_attention_heads,
        motion_norm_num_groups=unet.config.norm_num_groups,
        motion_max_seq_length=unet.config.motion_max_seq_length,
        use_motion_mid_block=True,
    )
    own = adapter.state_dict()
    adapter.load_state_dict({k: v for k, v in unet.state_dict().items() if k in own and v.shape == own[k].shape})
    return adapter


def assemble_pipeline(
    vae: AutoencoderKL,
    text_encoder: CLIPTextModelWithProjection,
    tokenizer: CLIPTokenizer,
    unet: UNetMotionModel,
) -> AnimateDiffSDXLPipeline:
    pipe = AnimateDiffSDXLPipeline(
        vae=vae,
        text_encoder=None,
        text_encoder_2=text_encoder,
        tokenizer=None,
        tokenizer_2=tokenizer,
        unet=unet,
        motion_adapter=motion_adapter_from(unet),
        scheduler=build_scheduler(),
        force_zeros_for_empty_prompt=True,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def time_ids(batch: int) -> torch.Tensor:
    """SDXL's (original size, crop top-left, target size), as the pipeline passes them at 64x64."""
    return torch.tensor([[SIZE, SIZE, 0, 0, SIZE, SIZE]], dtype=torch.float32).repeat(batch, 1)


def write_settings(folder: Path, guidance_scale: float) -> None:
    settings = {
        "guidance_scale": guidance_scale,
        "num_inference_steps": 20,
        "fps": 8,
        "height": SIZE,
        "width": SIZE,
        "max_frames": MAX_FRAMES,
    }
    (folder / "clipcast.json").write_text(json.dumps(settings, indent=2) + "\n")
