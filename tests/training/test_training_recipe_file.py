"""train.py's stage settings as data: the default recipe, recipe files, and --set / --key overrides."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from training.train import parse_args

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "generation" / "bundled" / "MODEL_CARD.md", ROOT / "generation" / "bundled" / "TRAINING_LOG.md"]


def test_the_default_recipe_trains_what_the_model_card_describes():
    args = parse_args([])

    # from scratch on the structured latent: stage 3 for 6000 steps hands its last weights to 1000 steps of 3e
    assert (args.steps, args.finetune_steps, args.unet_steps, args.stage3_keeps) == (6000, 0, 1000, "last")
    assert (args.clips, args.long_clip_share, args.batch, args.long_share, args.lr) == (40000, 0.25, 32, 0.15, 8e-4)
    assert (args.unet_lr, args.unet_long_share, args.guidance_grid) == (2e-4, 0.3, [1.5, 2.0, 3.0])
    assert (args.polish_steps, args.pixel_steps, args.refit_clips, args.image_share) == (0, 0, 0, 0.0)
    assert (args.out, args.workdir, args.seed, args.recipe) == ("generation/bundled", "var/training", 0, None)


def test_a_recipe_file_changes_only_the_settings_it_lists(tmp_path):
    recipe = tmp_path / "short.toml"
    recipe.write_text('steps = 300\nlr = 1e-3\nshape_mix = [1, 2, 1]\nstage3_keeps = "best"\n')

    args = parse_args(["--recipe", str(recipe)])

    assert (args.steps, args.lr, args.shape_mix, args.stage3_keeps) == (300, 1e-3, [1.0, 2.0, 1.0], "best")
    assert (args.unet_steps, args.batch, args.clips) == (1000, 32, 40000)


def test_set_and_the_flag_spelling_change_a_setting_alike(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text("batch = 8\n")
    by_set = parse_args(["--recipe", str(recipe), "--set", "batch=16", "--set", "guidance_grid=2,2.5",
                         "--set", "keep_snapshots=true"])
    by_flag = parse_args(["--recipe", str(recipe), "--batch", "16", "--guidance-grid", "2", "2.5", "--keep-snapshots"])

    assert vars(by_set) | {"set": []} == vars(by_flag) | {"set": []}
    assert (by_flag.batch, by_flag.guidance_grid, by_flag.keep_snapshots) == (16, [2.0, 2.5], True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "steps=many"], "recipe setting 'steps' needs a whole number, got 'many'"),
        (["--set", "steps"], "--set takes KEY=VALUE"),
        (["--no-such-setting", "3"], "unknown recipe setting 'no_such_setting'"),
        (["--stage3-keeps", "middle"], "is one of best, last, auto"),
        (["--unet-channels", "32"], "'unet_channels' takes 2 values"),
        (["--batch", "8", "9"], "'batch' takes one value"),
        (["stray"], "unexpected argument 'stray'"),
    ],
)
def test_a_bad_setting_is_refused_with_what_to_change(argv, message, capsys):
    with pytest.raises(SystemExit):
        parse_args(argv)

    assert message in capsys.readouterr().err


def test_a_bad_recipe_file_is_refused_naming_the_file(tmp_path, capsys):
    recipe = tmp_path / "bad.toml"
    recipe.write_text("stepz = 300\n")

    with pytest.raises(SystemExit):
        parse_args(["--recipe", str(recipe)])

    assert f"{recipe}: unknown recipe setting 'stepz'" in capsys.readouterr().err


def test_every_training_command_in_the_model_card_and_training_log_still_parses():
    commands = []
    for doc in DOCS:
        for line in doc.read_text().replace("\\\n", " ").splitlines():
            if match := re.search(r"python -m training\.train([^`#\n]*)", line):
                commands.append(shlex.split(match.group(1)))

    assert len(commands) >= 20
    for argv in commands:
        parse_args(argv)

