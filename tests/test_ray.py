"""Grids on a real local Ray (one instance per test session): the same tables as in process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import freqprobe as fp

from synthetic import planted_sets


@pytest.fixture(scope="module")
def small_sets() -> tuple[fp.ImageSet, fp.ImageSet]:
    real, fake = planted_sets(100, 32, 0.25, 0.25, 0.05)
    return fp.ImageSet(real, origin="real"), fp.ImageSet(fake, origin="fake")


def test_a_sharded_spectrum_equals_the_one_machine_spectrum(ray_session, small_sets) -> None:
    local = fp.spectrum(*small_sets, batch_size=16, device="cpu")
    sharded = fp.spectrum(*small_sets, batch_size=16, device="cpu", executor="ray")
    for name in ("radial", "comparison", "angular", "subbands", "dct"):
        left, right = getattr(local, name), getattr(sharded, name)
        pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-10, atol=1e-12)
    pd.testing.assert_frame_equal(local.peaks, sharded.peaks, check_exact=False, rtol=1e-10)
    assert len(local.peaks) > 0  # the planted peak is found by both
    for key, value in local.maps.items():
        if value.dtype.kind == "f":
            np.testing.assert_allclose(sharded.maps[key], value, rtol=1e-10, atol=1e-12, err_msg=key)
        else:
            np.testing.assert_array_equal(sharded.maps[key], value)
