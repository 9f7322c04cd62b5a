from __future__ import annotations

import torch

from freqprobe.transforms.keyed_random import keyed_normal, keyed_permutation, keyed_uniform


def test_uniform_has_the_moments_of_u01() -> None:
    u = keyed_uniform(0, torch.arange(64), (4096,))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean().item() - 0.5) < 0.005
    assert abs(u.var().item() - 1 / 12) < 0.002


def test_normal_has_the_moments_of_n01() -> None:
    z = keyed_normal(7, torch.arange(64), (4096,))
    assert abs(z.mean().item()) < 0.01
    assert abs(z.std().item() - 1) < 0.01
    assert abs((z.abs() > 1.96).float().mean().item() - 0.05) < 0.005


def test_numbers_depend_on_seed_and_index_not_on_batching() -> None:
    whole = keyed_uniform(3, torch.arange(10), (100,))
    part = keyed_uniform(3, torch.arange(5, 10), (100,))
    torch.testing.assert_close(whole[5:], part, rtol=0, atol=0)
    assert not torch.equal(whole, keyed_uniform(4, torch.arange(10), (100,)))
    assert not torch.equal(whole[0], whole[1])


def test_permutations_are_valid_and_distinct_per_image() -> None:
    perms = keyed_permutation(0, torch.arange(50), 16)
    assert torch.equal(perms.sort(dim=1).values, torch.arange(16).expand(50, 16))
    assert len({tuple(p.tolist()) for p in perms}) == 50


def test_streams_differ_across_seed_and_index_pairs() -> None:
    from freqprobe.transforms.keyed_random import image_seeds

    seeds = [s for seed in range(20) for s in image_seeds(seed, torch.arange(500))]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= s < 2**63 for s in seeds)


def test_streams_of_different_transforms_are_independent() -> None:
    index = torch.arange(4)
    assert not torch.equal(keyed_uniform(0, index, (16,), "patchshuffle"), keyed_uniform(0, index, (16,), "phase_noise"))
    torch.testing.assert_close(keyed_uniform(0, index, (16,), "noise"), keyed_uniform(0, index, (16,), "noise"))
