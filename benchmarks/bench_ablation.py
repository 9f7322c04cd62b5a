"""freqprobe's ablation grid against a plain PyTorch loop, same data, same process.

    python benchmarks/bench_ablation.py [--n 2000] [--size 64] [--variants original lowpass:0.2 highpass:0.2]
    python benchmarks/bench_ablation.py --recipes spatial whitened [--repeats 2]   # recipes side by side

The plain loop is what a user would write first: one small Conv-BN-ReLU network per
variant, AdamW (lr 1e-3), batch 64, 6 epochs, each batch filtered as it is drawn. Both
train on the same split of the demo sets (real photo crops vs their up-sampled twins) and
are scored on the same held-out images. Prints both accuracies per variant and the ratio
of wall-clock times.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

import freqprobe as fp


def plain_network() -> nn.Module:
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *block(3, 32), nn.MaxPool2d(2), *block(32, 64), nn.MaxPool2d(2), *block(64, 128),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 2),
    )  # fmt: skip


def plain_run(spec: str, train: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor]) -> float:
    """Train the plain network on one variant; return its test accuracy."""
    torch.manual_seed(0)
    t = fp.transform(spec)
    (x_train, y_train), (x_test, y_test) = train, test
    model = plain_network()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(6):
        model.train()
        for batch in torch.randperm(len(x_train)).split(64):
            loss = F.cross_entropy(model(t(x_train[batch].float() / 255, batch)), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(t(x.float() / 255)).argmax(1) for x in x_test.split(256)])
    return (predicted == y_test).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="images per set")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--variants", nargs="+", default=["original", "lowpass:0.2", "highpass:0.2"])
    parser.add_argument("--recipes", nargs="+", default=None, help="compare freqprobe's recipes instead of the plain loop")
    parser.add_argument("--repeats", type=int, default=2, help="with --recipes: rounds in alternating order")
    args = parser.parse_args()
    real, fake = fp.demo_sets(n=args.n, size=args.size)
    [(real_train, real_test), (fake_train, fake_test)] = fp.train_test_split(real, fake, test_size=0.2, seed=0)

    def stack(real_idx: torch.Tensor, fake_idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([real.images[real_idx], fake.images[fake_idx]])
        return x, torch.cat([torch.zeros(len(real_idx)), torch.ones(len(fake_idx))]).long()

    train, test = stack(real_train, fake_train), stack(real_test, fake_test)
    print(f"{args.n} + {args.n} images of {args.size}x{args.size}, {len(train[1])} train / {len(test[1])} test, "
          f"{torch.get_num_threads()} threads")  # fmt: skip

    if args.recipes:
        compare_recipes(real, fake, args.variants, args.recipes, args.repeats)
        return
    start = time.perf_counter()
    plain = {spec: plain_run(spec, train, test) for spec in args.variants}
    plain_seconds = time.perf_counter() - start

    start = time.perf_counter()
    result = fp.ablate(real, fake, args.variants, seeds=1, null=False, progress=False, device="cpu")
    ours_seconds = time.perf_counter() - start
    ours = dict(zip(result.table["variant"], result.table["accuracy"]))

    print(f"{'variant':<24}{'plain acc':>10}{'freqprobe acc':>15}{'difference':>12}")
    for spec in args.variants:
        print(f"{spec:<24}{plain[spec]:>10.3f}{ours[spec]:>15.3f}{ours[spec] - plain[spec]:>+12.3f}")
    print(f"time: plain {plain_seconds:.1f} s, freqprobe {ours_seconds:.1f} s, ratio {plain_seconds / ours_seconds:.1f}x")


def compare_recipes(real: fp.ImageSet, fake: fp.ImageSet, variants: list[str], recipes: list[str], repeats: int) -> None:
    """``fp.ablate``'s accuracy per variant and time of the whole call under each recipe, in
    this process: ``repeats`` rounds in alternating order (A B, B A, ...), the fastest of
    each recipe's calls reported (the least disturbed by other load)."""
    accuracy, seconds = {}, {r: [] for r in recipes}
    for repeat in range(repeats):
        for recipe in recipes if repeat % 2 == 0 else recipes[::-1]:
            start = time.perf_counter()
            result = fp.ablate(real, fake, variants, seeds=1, recipe=recipe, null=False, progress=False, device="cpu")
            seconds[recipe].append(time.perf_counter() - start)
            accuracy[recipe] = dict(zip(result.table["variant"], result.table["accuracy"]))
    print(f"{'variant':<24}" + "".join(f"{r:>16}" for r in recipes))
    for spec in variants:
        print(f"{spec:<24}" + "".join(f"{accuracy[r][spec]:>16.3f}" for r in recipes))
    fastest = {r: min(seconds[r]) for r in recipes}
    print("time (fastest of " + f"{repeats}): " + ", ".join(
        f"{r} {fastest[r]:.1f} s ({fastest[r] / fastest[recipes[0]]:.2f}x)" for r in recipes))  # fmt: skip
    print("all times: " + ", ".join(f"{r} " + " ".join(f"{t:.1f}" for t in seconds[r]) for r in recipes))


if __name__ == "__main__":
    main()
