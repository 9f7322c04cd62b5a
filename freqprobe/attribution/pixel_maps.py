"""Pixel-space attribution maps through Captum, one ``(H, W)`` map per image.

- ``ig``: ``IntegratedGradients`` from a black image, summed over channels (signed: the
  maps of an image sum to its score minus the black image's score);
- ``smoothgrad``: ``NoiseTunnel(Saliency)``, the absolute gradient averaged over noisy
  copies (Gaussian, std 0.1 in [0, 1] units), summed over channels;
- ``gradcam``: ``LayerGradCam`` on the last convolutional block (the last module whose
  output is a feature map larger than 1x1), ReLU applied, upsampled bilinearly with
  ``LayerAttribution.interpolate``;
- ``occlusion``: ``Occlusion`` with a mid-grey square of 1/8 of the image side, stride
  half of it: the score drop when a region is hidden, averaged over the windows covering a pixel.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..errors import FreqprobeError

PIXEL_METHODS = ("ig", "smoothgrad", "gradcam", "occlusion")
SMOOTHGRAD_STD = 0.1
SMOOTHGRAD_SAMPLES = 8
OCCLUSION_BASELINE = 0.5


def find_gradcam_layer(model: nn.Module, name: str | None, sample: Tensor) -> nn.Module:
    """The layer Grad-CAM reads: the module called ``name``, or ``last_conv_block``.

    ``sample`` is a batch of what ``model`` takes (after any variant). The model's in-place
    activations are switched off first (Captum's layer hooks need their outputs intact).

    Raises:
        FreqprobeError: TorchScript (no hooks), an unknown module name, no feature map.
    """
    if isinstance(model, torch.jit.ScriptModule):
        raise FreqprobeError("gradcam needs the model's layers (an nn.Module), not TorchScript; drop gradcam")
    disable_inplace(model)
    if name is None:
        return last_conv_block(model, sample)
    modules = dict(model.named_modules())
    if name not in modules:
        listed = ", ".join(n for n in modules if n)[:200]
        raise FreqprobeError(f"gradcam_layer={name!r} is not a module of the model; its modules: {listed}")
    return modules[name]


def last_conv_block(model: nn.Module, sample: Tensor) -> nn.Module:
    """The last leaf module (in forward order) whose output is a 4-D map larger than 1x1.

    Raises:
        FreqprobeError: the model has no such module (no convolutional feature map), or is
            TorchScript (no hooks).
    """
    if isinstance(model, torch.jit.ScriptModule):
        raise FreqprobeError("gradcam needs the model's layers (an nn.Module), not TorchScript; drop gradcam")
    found: list[nn.Module] = []

    def remember(module: nn.Module, inputs, output) -> None:
        if isinstance(output, Tensor) and output.ndim == 4 and output.shape[-2] * output.shape[-1] > 1:
            found.append(module)

    leaves = [module for module in model.modules() if not list(module.children())]
    handles = [module.register_forward_hook(remember) for module in leaves]
    try:
        with torch.no_grad():
            model(sample)
    finally:
        for handle in handles:
            handle.remove()
    if not found:
        raise FreqprobeError("gradcam: the model has no convolutional feature map larger than 1x1; drop gradcam")
    return found[-1]


def disable_inplace(model: nn.Module) -> None:
    """Turn off in-place activations (``ReLU(inplace=True)``): Captum's layer hooks need the outputs intact."""
    for module in model.modules():
        if getattr(module, "inplace", False) is True:
            module.inplace = False


def pixel_maps(
    scores: nn.Module,
    images: Tensor,
    targets: Tensor,
    method: str,
    *,
    ig_steps: int,
    max_batch: int,
    layer: nn.Module | None = None,
) -> Tensor:
    """``(N, H, W)`` maps (CPU, float32) of ``scores`` at ``targets`` for one batch of images."""
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, NoiseTunnel, Occlusion, Saliency
    n, _, height, width = images.shape
    if method == "ig":
        values = IntegratedGradients(scores).attribute(
            images, baselines=0.0, target=targets, n_steps=ig_steps, internal_batch_size=max(n, max_batch)
        )
        return values.sum(dim=1).detach().float().cpu()
    if method == "smoothgrad":
        values = NoiseTunnel(Saliency(scores)).attribute(
            images,
            nt_type="smoothgrad",
            nt_samples=SMOOTHGRAD_SAMPLES,
            nt_samples_batch_size=max(1, min(SMOOTHGRAD_SAMPLES, max_batch // n)),
            stdevs=SMOOTHGRAD_STD,
            target=targets,
        )
        return values.sum(dim=1).detach().float().cpu()
    if method == "gradcam":
        cam = LayerGradCam(scores, layer).attribute(images, target=targets, relu_attributions=True)
        values = LayerAttribution.interpolate(cam, (height, width), interpolate_mode="bilinear")
        return values[:, 0].detach().float().cpu()
    window = max(2, min(height, width) // 8)
    stride = max(1, window // 2)
    n_windows = ((height - window) // stride + 1) * ((width - window) // stride + 1)
    values = Occlusion(scores).attribute(
        images,
        sliding_window_shapes=(3, window, window),
        strides=(3, stride, stride),
        baselines=OCCLUSION_BASELINE,
        target=targets,
        perturbations_per_eval=max(1, min(n_windows, max_batch // n)),
    )
    return values.mean(dim=1).detach().float().cpu()
