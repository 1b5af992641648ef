"""A control for docs/demo-study.md: a DCGAN written apart from this package, on the sprites.

    pip install -e ".[torch]" && python docs/independent_dcgan.py --steps 300

Every run of the package on the sprites collapses onto one creature. To tell
whether the package's loop, data pipeline or initialisation causes that, this
script trains PyTorch's own DCGAN example (pytorch/examples, ``dcgan/main.py``:
the same generator, a discriminator without BatchNorm on its first block,
weights from N(0, 0.02) and BatchNorm scales from N(1, 0.02), Adam with lr
0.0002 and betas (0.5, 0.999), batch 64, the mean binary cross-entropy, the
generator updated on the fakes of the discriminator's step) with nothing of
this package in the training: its own nets, images read with PIL, torch's own
shuffling and noise. Only afterwards are its generator's weights copied into
``dcgan.torch.nets.net_G`` (the same layers in the same order) to be measured with
``dcgan.quality`` against the sprites, beside the noise floor, as every run of the
study is. It writes the last sample grid (64 samples, BatchNorm on running
statistics, as the package draws them) to ``--grid``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

HERE = Path(__file__).resolve().parent
LATENT_DIM, N_G, N_D = 100, 64, 64


def read_images(folder: Path) -> torch.Tensor:
    """Every PNG of the class folders of ``folder`` as (N, 3, 64, 64) in [-1, 1]."""
    files = sorted(folder.glob("*/*.png"))
    pixels = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
    return torch.from_numpy(pixels.astype(np.float32) / 127.5 - 1).permute(0, 3, 1, 2)


def generator() -> nn.Sequential:
    """pytorch/examples' ``Generator``."""
    layers: list[nn.Module] = []
    channels = [LATENT_DIM, N_G * 8, N_G * 4, N_G * 2, N_G]
    for i, (c_in, c_out) in enumerate(zip(channels, channels[1:])):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 1 if i == 0 else 2, 0 if i == 0 else 1,
                                      bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
    return nn.Sequential(*layers, nn.ConvTranspose2d(N_G, 3, 4, 2, 1, bias=False), nn.Tanh())


def discriminator() -> nn.Sequential:
    """pytorch/examples' ``Discriminator`` without its final sigmoid (the loss takes logits)."""
    layers: list[nn.Module] = [nn.Conv2d(3, N_D, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
    channels = [N_D, N_D * 2, N_D * 4, N_D * 8]
    for c_in, c_out in zip(channels, channels[1:]):
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out),
                   nn.LeakyReLU(0.2, True)]
    return nn.Sequential(*layers, nn.Conv2d(N_D * 8, 1, 4, 1, 0, bias=False))


def initialise(module: nn.Module) -> None:
    """pytorch/examples' ``weights_init``."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def train(images: torch.Tensor, steps: int, batch_size: int, lr: float,
          seed: int) -> nn.Sequential:
    """The example's training loop for ``steps`` batches; prints the losses every 50 and
    returns the generator."""
    torch.manual_seed(seed)
    net_G, net_D = generator(), discriminator()
    net_G.apply(initialise)
    net_D.apply(initialise)
    trainer_G = torch.optim.Adam(net_G.parameters(), lr=lr, betas=(0.5, 0.999))
    trainer_D = torch.optim.Adam(net_D.parameters(), lr=lr, betas=(0.5, 0.999))
    loss = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(batch_size), torch.zeros(batch_size)
    step, began = 0, time.perf_counter()
    while step < steps:
        order = torch.randperm(len(images))
        for first in range(0, len(images) - batch_size + 1, batch_size):
            X = images[order[first:first + batch_size]]
            fake = net_G(torch.randn(batch_size, LATENT_DIM, 1, 1))
            trainer_D.zero_grad()
            loss_D = (loss(net_D(X).flatten(), ones)
                      + loss(net_D(fake.detach()).flatten(), zeros))
            loss_D.backward()
            trainer_D.step()
            trainer_G.zero_grad()
            loss_G = loss(net_D(fake).flatten(), ones)
            loss_G.backward()
            trainer_G.step()
            step += 1
            if step % 50 == 0 or step == steps:
                print(f"step {step}: loss_D {loss_D.item():.3f}, loss_G {loss_G.item():.3f}, "
                      f"{time.perf_counter() - began:.0f} s", flush=True)
            if step == steps:
                break
    return net_G


def as_package_generator(net_G: nn.Sequential) -> nn.Module:
    """The package's ``net_G`` holding ``net_G``'s weights (the same tensors in the same order)."""
    from dcgan.torch.nets import net_G as package_net_G

    package = package_net_G(LATENT_DIM, N_G)
    ours, theirs = package.state_dict(), net_G.state_dict()
    if [v.shape for v in ours.values()] != [v.shape for v in theirs.values()]:
        raise RuntimeError("the two generators' layers differ")
    package.load_state_dict(dict(zip(ours, theirs.values())))
    return package


def save_grid(net_G: nn.Module, path: Path, seed: int) -> None:
    """8 x 8 samples drawn as the package draws them (BatchNorm on running statistics)."""
    from dcgan.plotting import display_images, save_image_grid
    from dcgan.torch.train import generate

    Z = torch.from_numpy(np.random.default_rng([seed, 21]).standard_normal(
        (64, LATENT_DIM, 1, 1)).astype(np.float32))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image_grid(display_images(generate(net_G, Z), "NCHW"), path, cols=8)


def main() -> None:
    from dcgan.datasets import default_data_root
    from dcgan.datasets.sprites import sprites
    from dcgan.quality.evaluate import evaluate_net, format_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.0002)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-images", type=int, default=2000)
    parser.add_argument("--grid", type=Path, default=HERE / "images" / "demo-study-independent.png")
    args = parser.parse_args()
    folder = sprites(default_data_root(), args.num_images)
    net_G = train(read_images(folder), args.steps, args.batch_size, args.lr, args.seed)
    package_G = as_package_generator(net_G)
    save_grid(package_G, args.grid, args.seed)
    print(format_table(evaluate_net("torch", package_G, folder, num=500, seed=args.seed)))
    print(f"grid: {args.grid}")


if __name__ == "__main__":
    main()
