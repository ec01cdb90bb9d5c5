"""The training tokenizer reads captions with the same ids in every process, and a resumed run keeps its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

from training import components as C
from training.data import vocabulary_corpus
from training.diffusion import workdir_tokenizer

ROOT = Path(__file__).resolve().parents[2]
_PRINT_IDS = (
    "import json; from training import components as C; "
    "t = C.build_tokenizer(); print(json.dumps(sorted(t.get_vocab().items())))"
)


def _vocab_in_new_process() -> dict[str, int]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)])}
    out = subprocess.run(
        [sys.executable, "-c", _PRINT_IDS], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.slow
def test_every_caption_word_has_the_same_id_in_every_process():
    # The BPE trainer breaks ties differently per process; before the renumbering "a" was 268, 270 or 273.
    first, second = _vocab_in_new_process(), _vocab_in_new_process()
    words = [w + "</w>" for w in vocabulary_corpus()]
    assert all(w in first for w in words)
    assert [first[w] for w in words] == [second[w] for w in words]
    assert sorted(first.values()) == list(range(len(first)))


def test_a_resumed_run_reads_captions_with_the_tokenizer_it_saved(tmp_path):
    built = workdir_tokenizer(Namespace(resume=False), tmp_path)
    # Stand-in for a tokenizer from another process: the saved one must win on resume, not a fresh build.
    vocab = dict(built.get_vocab())
    vocab["red</w>"], vocab["blue</w>"] = vocab["blue</w>"], vocab["red</w>"]
    swapped = C.CLIPTokenizer(
        vocab=vocab, merges=[], unk_token=C.UNK, bos_token=C.BOS, eos_token=C.EOS, pad_token=C.EOS
    )
    swapped.save_pretrained(tmp_path / "tokenizer")
    resumed = workdir_tokenizer(Namespace(resume=True), tmp_path)
    assert resumed.get_vocab()["red</w>"] == built.get_vocab()["blue</w>"]
    fresh = workdir_tokenizer(Namespace(resume=False), tmp_path)
    assert fresh.get_vocab()["red</w>"] == built.get_vocab()["red</w>"]
