"""The default weights are the real Caffe VGG19 ones, and every other source fails clearly."""

from __future__ import annotations

import hashlib

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engine import WeightsError
from engine.vgg import VGG19Features
from engine.weights import CAFFE, CONV_SHAPES, LAYER_NAMES, conv_key, load_weights

# sha256 of the 32 dequantised tensors (weights, biases) in layer order, recorded once.
BUNDLED_SHA256 = "a5ca49fed7216cf313b2aa8e87df5bd768b6562ae18f98e581887dae352f3ea0"


@pytest.fixture(scope="module")
def bundled():
    return load_weights("bundled")


def _checksum(state: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key in sorted(state, key=lambda k: (int(k.split(".")[1]), k)):
        digest.update(state[key].contiguous().numpy().tobytes())
    return digest.hexdigest()


def test_bundled_weights_are_the_recorded_caffe_vgg19(bundled):
    assert bundled.convention == CAFFE
    assert len(bundled.state_dict) == 2 * len(CONV_SHAPES) == 32
    assert _checksum(bundled.state_dict) == BUNDLED_SHA256


def _low_pass_ratio(weight: torch.Tensor) -> float:
    """Energy of the response to a smooth pattern over that to white noise of equal power."""
    generator = torch.Generator().manual_seed(0)
    white = torch.randn(1, 3, 64, 64, generator=generator)
    smooth = F.avg_pool2d(F.pad(white, (2, 2, 2, 2), mode="reflect"), 5, stride=1)
    smooth = smooth / smooth.std() * white.std()
    return float(F.conv2d(smooth, weight).pow(2).mean() / F.conv2d(white, weight).pow(2).mean())


def test_first_layer_behaves_like_trained_filters_not_random_ones(bundled):
    """Trained conv1_1 filters are smooth: they pass low frequencies, random ones do not."""
    trained = bundled.state_dict[f"{conv_key('conv1_1')}.weight"]
    torch.manual_seed(0)
    random_init = torch.nn.Conv2d(3, 64, 3).weight.detach()
    assert _low_pass_ratio(trained) > 1.5  # measured 1.75
    assert _low_pass_ratio(random_init) < 1.2  # measured 0.8 to 1.1 over seeds


def test_a_torchvision_layout_file_loads_the_same_tensors(bundled, tmp_path):
    path = tmp_path / "vgg19.pth"
    torch.save(bundled.state_dict, path)
    loaded = load_weights(str(path))
    assert _checksum(loaded.state_dict) == BUNDLED_SHA256
    bare = tmp_path / "features.pth"  # the state dict of `vgg19().features` alone
    torch.save({k.removeprefix("features."): v for k, v in bundled.state_dict.items()}, bare)
    assert _checksum(load_weights(str(bare)).state_dict) == BUNDLED_SHA256


def test_a_file_of_the_wrong_shape_is_refused(bundled, tmp_path):
    state = dict(bundled.state_dict)
    state["features.0.weight"] = torch.zeros(64, 3, 5, 5)
    path = tmp_path / "wrong.pth"
    torch.save(state, path)
    with pytest.raises(WeightsError, match=r"features\.0\.weight"):
        load_weights(str(path))


def test_garbage_and_missing_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="Could not read"):
        load_weights(str(garbage))
    with pytest.raises(WeightsError, match="bundled, torchvision"):
        load_weights(str(tmp_path / "missing.pth"))


def test_torchvision_weights_offline_name_the_other_choices(monkeypatch, tmp_path):
    """No download can succeed: every proxy points at a closed loopback port."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(WeightsError, match="bundled") as error:
        load_weights("torchvision")
    assert "offline" in str(error.value)


def test_model_is_frozen_and_stops_at_the_deepest_layer(bundled):
    model = VGG19Features(bundled)
    assert not any(p.requires_grad for p in model.parameters())
    assert not model.training
    image = torch.rand(1, 3, 32, 32, requires_grad=True)
    features = model(image, ["relu2_1", "conv1_1"])
    assert set(features) == {"conv1_1", "conv2_1"}
    assert features["conv2_1"].shape == (1, 128, 16, 16)
    assert features["conv1_1"].min() >= 0  # rectified, as in Caffe's in-place ReLU
    with pytest.raises(ValueError, match="unknown VGG19 layer"):
        model(image, ["conv9_9"])


def test_channels_last_layout_gives_the_plain_layouts_features_and_gradients(bundled):
    model = VGG19Features(bundled)
    first_conv = model.features[0]
    assert isinstance(first_conv, nn.Conv2d)
    assert first_conv.weight.is_contiguous(memory_format=torch.channels_last)
    plain = VGG19Features(bundled).to(memory_format=torch.contiguous_format)
    image = torch.rand(1, 3, 40, 56)

    fast_pixels = image.clone().requires_grad_(True)
    fast = model(fast_pixels, ["conv4_2"])["conv4_2"]
    fast.pow(2).mean().backward()

    plain_pixels = image.clone().requires_grad_(True)
    x = plain.normalize(plain_pixels)
    for layer in plain.features[: LAYER_NAMES.index("relu4_2") + 1]:
        x = layer(x)
    assert x.is_contiguous()  # the whole reference pass stayed in the plain layout
    x.pow(2).mean().backward()

    assert fast_pixels.grad is not None and plain_pixels.grad is not None
    # Only float summation order differs: errors far below the maps' own scale.
    for ours, theirs in ((fast.detach(), x.detach()), (fast_pixels.grad, plain_pixels.grad)):
        assert (ours - theirs).abs().max() <= 1e-5 * theirs.abs().max()
