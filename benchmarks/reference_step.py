"""The PyTorch reference's training step on this machine, timed with the reference's own networks.

`bench.py --reference-repo PATH` runs this between its rounds, so the "vs ref" ratios compare steps
measured in one run on one machine. It needs torch (no dependency of this package; on these CPU
machines `pip install torch==2.13.0` is the CPU build) and a clone of
github.com/junyanz/pytorch-CycleGAN-and-pix2pix, whose `models/networks.py` builds the networks.

    python benchmarks/reference_step.py --repo ~/pytorch-CycleGAN-and-pix2pix --model cyclegan --steps 3

The step is the reference's `optimize_parameters` at its defaults (256x256, batch 1, Adam 2e-4 / 0.5):

- pix2pix: G(A); D on (A, G(A)) detached and on (A, B), vanilla GAN loss, D step; then G on
  cGAN + 100 L1, G step (unet_256, 70x70 PatchGAN, batch norm, dropout).
- CycleGAN: both generators forward and back; G step on LSGAN + 10 cycle + 5 identity with the
  discriminators frozen; then D_A and D_B on real and (detached) fake, one D step (resnet_9blocks,
  instance norm). The 50-image pool is left out: it only copies a tensor.

Prints one JSON line: {"model", "step_seconds" (median), "steps", "generator_forward_seconds",
"torch", "threads"}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time


def _build(networks, model: str):
    """(step, forward): the reference's training step and its generator's eval-mode forward, on fixed images."""
    import torch
    from torch import nn

    real_a, real_b = (torch.rand(1, 3, 256, 256) * 2 - 1 for _ in range(2))
    adam = {"lr": 2e-4, "betas": (0.5, 0.999)}
    l1 = nn.L1Loss()
    if model == "pix2pix":
        gens = [networks.define_G(3, 3, 64, "unet_256", "batch", True, "normal", 0.02)]
        discs = [networks.define_D(6, 64, "basic", 3, "batch", "normal", 0.02)]
        gan = networks.GANLoss("vanilla")
    else:
        gens = [networks.define_G(3, 3, 64, "resnet_9blocks", "instance", False, "normal", 0.02) for _ in "AB"]
        discs = [networks.define_D(3, 64, "basic", 3, "instance", "normal", 0.02) for _ in "AB"]
        gan = networks.GANLoss("lsgan")
    g_opt = torch.optim.Adam(itertools.chain(*(g.parameters() for g in gens)), **adam)
    d_opt = torch.optim.Adam(itertools.chain(*(d.parameters() for d in discs)), **adam)

    def train_discriminators(flag: bool) -> None:
        for parameter in itertools.chain(*(d.parameters() for d in discs)):
            parameter.requires_grad = flag

    def pix2pix_step() -> None:
        (g,), (d,) = gens, discs
        fake_b = g(real_a)
        train_discriminators(True)
        d_opt.zero_grad()
        loss_d = 0.5 * (gan(d(torch.cat((real_a, fake_b.detach()), 1)), False)
                        + gan(d(torch.cat((real_a, real_b), 1)), True))
        loss_d.backward()
        d_opt.step()
        train_discriminators(False)
        g_opt.zero_grad()
        loss_g = gan(d(torch.cat((real_a, fake_b), 1)), True) + 100 * l1(fake_b, real_b)
        loss_g.backward()
        g_opt.step()

    def cyclegan_step() -> None:
        (g_a, g_b), (d_a, d_b) = gens, discs
        fake_b, fake_a = g_a(real_a), g_b(real_b)
        train_discriminators(False)
        g_opt.zero_grad()
        loss_g = (gan(d_a(fake_b), True) + gan(d_b(fake_a), True)
                  + 10 * l1(g_b(fake_b), real_a) + 10 * l1(g_a(fake_a), real_b)
                  + 5 * l1(g_a(real_b), real_b) + 5 * l1(g_b(real_a), real_a))
        loss_g.backward()
        g_opt.step()
        train_discriminators(True)
        d_opt.zero_grad()
        for d, real, fake in ((d_a, real_b, fake_b), (d_b, real_a, fake_a)):
            (0.5 * (gan(d(real), True) + gan(d(fake.detach()), False))).backward()
        d_opt.step()

    def forward() -> None:
        gens[0].eval()
        with torch.no_grad():
            gens[0](real_a)
        gens[0].train()

    return (pix2pix_step if model == "pix2pix" else cyclegan_step), forward


def _median_seconds(function, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", required=True, help="a clone of junyanz/pytorch-CycleGAN-and-pix2pix")
    parser.add_argument("--model", choices=["pix2pix", "cyclegan"], required=True)
    parser.add_argument("--steps", type=int, default=3, help="timed steps, after 2 warm-up steps")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("reference_step.py needs torch (not a dependency of tfgan_translate): pip install torch")
    sys.path.insert(0, args.repo)
    try:
        from models import networks
    except ImportError as error:
        sys.exit(f"Invalid value for argument `--repo`. Received: --repo={args.repo} ({error}). Expected a clone "
                 "of junyanz/pytorch-CycleGAN-and-pix2pix (its models/networks.py).")

    torch.manual_seed(0)
    step, forward = _build(networks, args.model)
    _median_seconds(step, 2)
    seconds, times = _median_seconds(step, args.steps)
    _median_seconds(forward, 1)
    print(json.dumps({"model": args.model, "step_seconds": seconds, "steps": times,
                      "generator_forward_seconds": _median_seconds(forward, 3)[0], "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
