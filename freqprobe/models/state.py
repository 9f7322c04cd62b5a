"""Give a caller's modules back as they came, after work that changes them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn


@contextlib.contextmanager
def restored(*sources: object) -> Iterator[None]:
    """On leaving the block, also after an error, restore every ``nn.Module`` among
    ``sources``: each sub-module's ``training`` flag and boolean ``inplace`` attribute, and
    the device of its parameters and buffers (when they were all on one). Other objects
    are ignored.

    ``fp.attribute`` and ``fp.probe`` put a caller's model in eval mode and on their device;
    Grad-CAM also switches off in-place activations.
    """
    saved = []
    for source in sources:
        if isinstance(source, nn.Module):
            modules = list(source.modules())
            training = [module.training for module in modules]
            inplace = [(m, m.inplace) for m in modules if isinstance(getattr(m, "inplace", None), bool)]
            devices = {t.device for t in (*source.parameters(), *source.buffers())}
            saved.append((source, modules, training, inplace, devices))
    try:
        yield
    finally:
        for source, modules, training, inplace, devices in saved:
            for module, mode in zip(modules, training):
                module.training = mode
            for module, flag in inplace:
                module.inplace = flag
            if len(devices) == 1:
                source.to(devices.pop())
