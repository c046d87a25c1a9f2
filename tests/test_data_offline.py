"""Offline MNIST: real digits, written as IDX files, read back through torchvision's MNIST."""

import socket
from collections import Counter

import numpy as np
import pytest
import torch
from torchvision import datasets

import snntorch_ext as snx


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_split_sizes_shapes_and_balance(data_root, no_network):
    train = snx.data.mnist_offline(data_root, train=True)
    test = snx.data.mnist_offline(data_root, train=False)
    assert isinstance(train, datasets.MNIST) and isinstance(test, datasets.MNIST)
    assert (len(train), len(test)) == (4000, 1000)
    assert Counter(train.targets.tolist()) == {d: 400 for d in range(10)}
    assert Counter(test.targets.tolist()) == {d: 100 for d in range(10)}
    image, label = train[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0 and float(image.max()) > 0.5
    assert isinstance(label, int) and 0 <= label < 10


def test_files_are_in_torchvision_layout(data_root):
    snx.data.mnist_offline(data_root)
    raw = data_root / "mnist_offline" / "MNIST" / "raw"
    names = sorted(p.name for p in raw.iterdir())
    assert names == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                     "train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    assert (raw / "train-images-idx3-ubyte").read_bytes()[:4] == bytes([0, 0, 8, 3])


def test_split_is_fixed_and_disjoint(tmp_path, data_root):
    again = snx.data.mnist_offline(tmp_path, train=True)
    first = snx.data.mnist_offline(data_root, train=True)
    assert torch.equal(again.data, first.data) and torch.equal(again.targets, first.targets)
    test = snx.data.mnist_offline(data_root, train=False)
    train_rows = {bytes(img.numpy()) for img in first.data}
    assert not any(bytes(img.numpy()) in train_rows for img in test.data)


def test_labels_match_images(data_root):
    """Mean digit images of each class correlate best with themselves across the split."""
    train = snx.data.mnist_offline(data_root, train=True)
    test = snx.data.mnist_offline(data_root, train=False)
    means = torch.stack([train.data[train.targets == d].float().mean(0).flatten()
                         for d in range(10)])
    scores = test.data.float().flatten(1) @ (means / means.norm(dim=1, keepdim=True)).T
    assert (scores.argmax(1) == test.targets).float().mean() > 0.6


def test_corrupt_file_is_a_clear_error(tmp_path):
    snx.data.mnist_offline(tmp_path)
    bad = tmp_path / "mnist_offline" / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte"):
        snx.data.mnist_offline(tmp_path)


def test_missing_real_mnist_says_where_files_go(tmp_path):
    with pytest.raises(FileNotFoundError, match="download"):
        snx.data.mnist(tmp_path, train=False)


def test_mnist_transform_shifts_training_digits_only():
    from PIL import Image

    image = Image.fromarray((np.arange(28 * 28) % 255).astype(np.uint8).reshape(28, 28))
    plain = snx.data.mnist_transform(train=True, augment=False)(image)
    assert torch.equal(snx.data.mnist_transform(train=False, augment=True)(image), plain)
    torch.manual_seed(0)
    shifted = [snx.data.mnist_transform(train=True, augment=True)(image) for _ in range(8)]
    assert any(not torch.equal(s, plain) for s in shifted)
    for s in shifted:            # a shift by at most 2 pixels: some 24x24 window is unchanged
        assert any(torch.equal(s[:, 2 + dy:26 + dy, 2 + dx:26 + dx], plain[:, 2:26, 2:26])
                   for dy in range(-2, 3) for dx in range(-2, 3))
