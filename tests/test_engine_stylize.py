"""Real optimisation on tiny procedural images: the algorithm does what the paper says."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import torch
from PIL import Image
from torch import nn

import engine.optimize
from engine import Progress, RunCancelled, Strength, StyleOptions, stylize
from engine.images import to_image, to_tensor
from engine.losses import gram
from engine.optimize import Objective, default_precision, plan_scales
from engine.options import COARSE_SHARE, DEFAULT_MAX_SIDE, DEFAULT_STEPS
from engine.vgg import get_model
from tests.pictures import checkerboard, gradient, noise, stripes, waves

pytestmark = pytest.mark.slow
#: What every run here shares: the CPU and the weights that need no download.
CPU = StyleOptions(device="cpu", weights="bundled")
STYLE_LAYERS = StyleOptions().style_layers


def features(image, layers):
    with torch.no_grad():
        return get_model(torch.device("cpu"))(to_tensor(image), layers)


def gram_distance(image, style, layers=STYLE_LAYERS) -> float:
    """Mean over layers of the relative Gram error: how unlike the style an image is."""
    ours, theirs = features(image, layers), features(style, layers)
    return sum(
        float((gram(ours[n]) - gram(theirs[n])).pow(2).mean() / gram(theirs[n]).pow(2).mean())
        for n in layers
    ) / len(layers)


def content_distance(image, content) -> float:
    ours, theirs = features(image, ["conv4_2"]), features(content, ["conv4_2"])
    return float(
        (ours["conv4_2"] - theirs["conv4_2"]).pow(2).mean() / theirs["conv4_2"].pow(2).mean()
    )


def content_similarity(image, content) -> float:
    ours, theirs = features(image, ["conv4_2"]), features(content, ["conv4_2"])
    return float(torch.cosine_similarity(ours["conv4_2"].flatten(), theirs["conv4_2"].flatten(), 0))


def psnr(a, b) -> float:
    mse = float((to_tensor(a) - to_tensor(b)).pow(2).mean())
    return 10 * torch.log10(torch.tensor(1.0 / mse)).item()


def test_style_only_from_noise_reproduces_the_style_statistics():
    style = stripes(64, 64)
    start = noise(64, 64, seed=3)
    options = replace(
        CPU,
        content_weight=0,
        style_weight=1,
        tv_weight=0,
        init="noise",
        seed=3,
        max_side=64,
        steps=80,
    )
    result = stylize(gradient(64, 64), style, options)
    assert gram_distance(result.image, style) < gram_distance(start, style) / 20


def test_content_only_from_noise_reconstructs_the_content():
    content = gradient(64, 48)
    options = replace(
        CPU,
        style_weight=0,
        tv_weight=0,
        content_layers=("conv1_1", "conv2_1"),
        init="noise",
        seed=1,
        max_side=64,
        steps=120,
    )
    result = stylize(content, stripes(), options)
    assert psnr(noise(64, 48, seed=1), content) < 10
    assert psnr(result.image, content) > 20


def test_a_full_run_moves_toward_the_style_and_keeps_the_content():
    content, style = gradient(64, 48), stripes(64, 64)
    result = stylize(content, style, replace(CPU, max_side=64, steps=40))
    assert result.image.size == (64, 48)
    assert gram_distance(result.image, style) < gram_distance(content, style) / 3
    # In conv4_2 space the result still resembles the photo more than the painting or noise do.
    kept = content_similarity(result.image, content)
    assert kept > content_similarity(style.resize((64, 48)), content) + 0.05
    assert kept > content_similarity(noise(64, 48), content) + 0.05


def test_presets_are_ordered_strong_is_closer_to_the_style_than_light():
    content, style = gradient(64, 48), stripes(64, 64)
    light, strong = (
        stylize(content, style, replace(CPU, strength=s, max_side=64, steps=40)).image
        for s in (Strength.LIGHT, Strength.STRONG)
    )
    assert gram_distance(strong, style) < gram_distance(light, style)
    assert content_distance(strong, content) > content_distance(light, content)


def test_progress_arrives_in_order_with_previews_and_a_falling_eta():
    seen: list[Progress] = []
    options = replace(CPU, max_side=96, min_scale=48, steps=12, progress_every=2)
    stylize(gradient(96, 64), stripes(), options, on_progress=seen.append)
    steps = [p.step for p in seen]
    assert steps == sorted(steps) and steps[-1] == 12 and seen[0].total == 12
    assert [p.scale for p in seen] == sorted(p.scale for p in seen) and seen[-1].scales == 2
    assert seen[0].size == (48, 32) and seen[-1].size == (96, 64)
    assert seen[-1].eta == 0 and all(p.eta >= 0 and p.elapsed > 0 for p in seen)
    assert seen[-1].preview().size == (96, 64)
    assert set(seen[-1].losses) == {"content", "style", "tv", "total"}


def test_cancel_stops_within_one_step():
    cancel = threading.Event()
    seen: list[int] = []

    def on_progress(progress: Progress) -> None:
        seen.append(progress.step)
        if progress.step == 3:
            cancel.set()

    options = replace(CPU, max_side=64, steps=50, progress_every=1)
    with pytest.raises(RunCancelled):
        stylize(gradient(), stripes(), options, on_progress=on_progress, cancel=cancel)
    assert seen == [1, 2, 3]


def test_seed_reproduces_a_run_and_another_seed_does_not():
    def run(seed):
        options = replace(CPU, init="noise", seed=seed, max_side=48, steps=6)
        return stylize(gradient(48, 48), stripes(), options).image.tobytes()

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_adam_and_style_init_also_paint():
    content, style = gradient(64, 48), stripes(64, 64)
    for options in (
        replace(CPU, optimizer="adam", lr=0.05, max_side=64, steps=40),
        replace(CPU, init="style", max_side=64, steps=20),
    ):
        result = stylize(content, style, options)
        assert gram_distance(result.image, style) < gram_distance(content, style) / 2


def test_blend_weights_select_or_mix_several_styles():
    content = gradient(48, 48)
    options = replace(CPU, max_side=48, steps=15)
    only_stripes = stylize(content, stripes(), options).image
    blended_all_stripes = stylize(
        content, [stripes(), waves()], replace(options, style_blend_weights=(1, 0))
    ).image
    assert blended_all_stripes.tobytes() == only_stripes.tobytes()
    mixed = stylize(content, [stripes(), waves()], options).image
    assert mixed.tobytes() != only_stripes.tobytes()


def test_style_scale_sets_the_size_of_the_style_the_result_copies():
    style = stripes(64, 64)
    # Sizes a factor √2 apart: were the option ignored, inverted or applied to the area
    # instead of the side, the result would match a neighbour better than its own size.
    factors = [2 ** (i / 2) for i in range(-2, 5)]  # 0.5 … 4
    resized = {k: style.resize((round(64 * k),) * 2, Image.Resampling.LANCZOS) for k in factors}
    # Style only, from noise: nothing but the style's statistics shapes the result.
    options = replace(
        CPU, content_weight=0, tv_weight=0, init="noise", seed=1, max_side=64, steps=40
    )
    for style_scale in (0.5, 2.0):
        result = stylize(gradient(64, 64), style, replace(options, style_scale=style_scale))
        distances = {k: gram_distance(result.image, resized[k]) for k in factors}
        nearest = min(distances, key=distances.__getitem__)
        assert nearest == style_scale, f"style_scale={style_scale} looks like {nearest:.2f}"


def test_average_pooling_builds_an_average_pooled_network_and_paints_differently():
    def pool_kinds(pooling):
        model = get_model(torch.device("cpu"), "bundled", pooling)
        return {type(layer) for layer in model.features} - {nn.Conv2d, nn.ReLU}

    assert pool_kinds("avg") == {nn.AvgPool2d} and pool_kinds("max") == {nn.MaxPool2d}
    content, style = gradient(48, 48), stripes()
    options = replace(CPU, max_side=48, steps=15)
    by_max = to_tensor(stylize(content, style, options).image)
    by_avg = to_tensor(stylize(content, style, replace(options, pooling="avg")).image)
    mean_difference = float((by_max - by_avg).abs().mean())
    assert mean_difference > 0.02


def test_style_layer_weights_choose_the_layers_whose_statistics_the_result_copies():
    content, style = gradient(48, 48), stripes()

    def run(weights):
        options = replace(CPU, style_layer_weights=weights, max_side=48, steps=15)
        return stylize(content, style, options).image

    def unlike_style_at(layer, image):
        return gram_distance(image, style, [layer])

    # Weights follow STYLE_LAYERS: conv1_1 … conv5_1.
    fine_only, coarse_only = run((1, 0, 0, 0, 0)), run((0, 0, 0, 0, 1))
    assert unlike_style_at("conv1_1", fine_only) < unlike_style_at("conv1_1", coarse_only)
    assert unlike_style_at("conv5_1", coarse_only) < unlike_style_at("conv5_1", fine_only)


def test_equal_style_layer_weights_of_any_size_are_the_default():
    content, style = gradient(48, 48), stripes()
    options = replace(CPU, max_side=48, steps=5)
    default = stylize(content, style, options).image
    doubled = stylize(content, style, replace(options, style_layer_weights=(2.0,) * 5)).image
    assert doubled.tobytes() == default.tobytes()


def test_preserve_colors_keeps_the_content_palette():
    content, style = gradient(64, 48), checkerboard()
    result = stylize(content, style, replace(CPU, preserve_colors=True, max_side=64, steps=20))
    chroma = to_tensor(result.image.convert("YCbCr"))[:, 1:]
    assert (chroma - to_tensor(content.convert("YCbCr"))[:, 1:]).abs().mean() < 0.03


def test_output_keeps_the_contents_aspect_ratio_and_never_upscales():
    result = stylize(gradient(120, 40), stripes(), replace(CPU, max_side=90, steps=3))
    assert result.image.size == (90, 30)
    small = stylize(gradient(40, 60), stripes(), replace(CPU, max_side=512, steps=2))
    assert small.image.size == (40, 60)


def test_out_of_memory_retries_once_smaller_and_says_so(monkeypatch):
    import engine.optimize as optimize

    real_run, sizes = optimize._run, []

    def run_or_oom(content, styles, options, device, max_side, *rest):
        sizes.append(max_side)
        if len(sizes) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_run(content, styles, options, device, max_side, *rest)

    monkeypatch.setattr(optimize, "_run", run_or_oom)
    result = stylize(gradient(200, 100), stripes(), replace(CPU, max_side=100, steps=2))
    assert sizes == [100, 70] and result.image.size == (70, 35)
    assert result.note is not None and "70 px" in result.note


def test_scale_plan_doubles_up_to_the_output_and_spends_more_steps_on_coarse_scales():
    plan = plan_scales((1024, 768), StyleOptions(), max_side=512, steps=100)
    assert [s.size for s in plan] == [(128, 96), (256, 192), (512, 384)]
    assert sum(s.steps for s in plan) == 100 and plan[0].steps > plan[-1].steps
    assert [s.size for s in plan_scales((1024, 768), StyleOptions(multiscale=False), 512, 10)] == [
        (512, 384)
    ]


def test_the_default_plans_at_384_px_on_a_cpu_and_512_px_on_a_gpu():
    def plan(key, device):
        side, steps, share = DEFAULT_MAX_SIDE[device], DEFAULT_STEPS[key], COARSE_SHARE[key]
        return [
            (s.size, s.steps) for s in plan_scales((1024, 768), StyleOptions(), side, steps, share)
        ]

    # bf16 (a CPU with AMX): today's 66 steps at half size, then 40 instead of 34.
    assert plan("cpu-bf16", "cpu") == [((192, 144), 66), ((384, 288), 40)]
    assert plan("cpu", "cpu") == [((192, 144), 66), ((384, 288), 34)]  # fp32: as it was
    assert plan("cuda", "cuda") == [((128, 96), 120), ((256, 192), 120), ((512, 384), 60)]


def test_bf16_is_the_default_on_a_cpu_with_amx_alone_and_brings_its_schedule(monkeypatch):
    def run(**changes):
        """The default steps over two scales (48 then 96 px); the steps done at each end."""
        ends: list[int] = []
        options = replace(CPU, max_side=96, min_scale=48, progress_every=1000, **changes)
        result = stylize(
            gradient(96, 72), stripes(), options, on_progress=lambda p: ends.append(p.step)
        )
        return result.options.precision, ends

    monkeypatch.setattr(engine.optimize, "_cpu_has_amx", lambda: False)
    assert default_precision(torch.device("cpu")) == "fp32"
    assert run() == ("fp32", [66, 100])  # as it was
    monkeypatch.setattr(engine.optimize, "_cpu_has_amx", lambda: True)
    assert default_precision(torch.device("cpu")) == "bf16"
    assert default_precision(torch.device("cuda")) == "fp32"  # GPUs: unchanged
    assert run() == ("bf16", [66, 106])  # six more steps, all at the output size
    assert run(precision="fp32", steps=3) == ("fp32", [2, 3])  # asked for: kept, AMX or not


def test_under_bf16_the_targets_are_still_computed_in_fp32():
    cpu = torch.device("cpu")
    photo, painting = to_tensor(gradient(48, 48)), to_tensor(stripes(48, 48))
    fp32, bf16 = (
        Objective(get_model(cpu), photo, [painting], replace(CPU, precision=precision))
        for precision in ("fp32", "bf16")
    )
    assert bf16.features.bf16 and not fp32.features.bf16  # the picture's passes do differ
    for exact, mixed in zip(
        [*fp32.style_losses, *fp32.content_losses],
        [*bf16.style_losses, *bf16.content_losses],
        strict=True,
    ):
        assert torch.equal(exact.target, mixed.target)


def test_the_gram_backward_is_autograds_and_keeps_the_memory_layout():
    upstream = torch.rand(2, 5, 5, dtype=torch.float64)  # not symmetric, as autograd may hand it
    for layout in (torch.contiguous_format, torch.channels_last):
        features = torch.rand(2, 5, 4, 3, dtype=torch.float64).contiguous(memory_format=layout)
        features.requires_grad_(True)
        (ours,) = torch.autograd.grad(gram(features), features, upstream)
        flat = features.reshape(2, 5, 12)
        textbook = torch.bmm(flat, flat.transpose(1, 2)) / 12
        (theirs,) = torch.autograd.grad(textbook, features, upstream)
        torch.testing.assert_close(gram(features), textbook)
        torch.testing.assert_close(ours, theirs)
        assert ours.is_contiguous(memory_format=layout)


def test_bad_options_are_refused_with_value_errors():
    for bad in (
        dict(optimizer="sgd"),
        dict(init="zeros"),
        dict(max_side=8),
        dict(steps=0),
        dict(style_layer_weights=(1.0,)),
        dict(strength="extreme"),
        dict(precision="fp16"),
    ):
        with pytest.raises(ValueError):
            StyleOptions(**bad)
    with pytest.raises(ValueError, match="unknown VGG19 layer"):
        stylize(gradient(), stripes(), replace(CPU, content_layers=("conv6_1",), steps=1))


def test_result_image_round_trips_through_the_preview_format():
    image = to_image(torch.rand(1, 3, 40, 50))
    assert image.mode == "RGB" and image.size == (50, 40)
