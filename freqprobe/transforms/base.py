"""The transform contract, the spec-string grammar and the registry.

A spec is ``name`` or ``name:arg,arg,key=value``; stages are joined with ``+`` and applied
left to right. A key whose value is a pair takes the bare argument that follows it
(``angle=0,45``). Each transform is a frozen dataclass: its fields are the spec's
arguments (``positional`` lists those given without a key), ``__post_init__`` validates
them, and ``str()`` gives the canonical spec back (defaults left out).
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ..errors import SpecError
from ..suggest import did_you_mean

REGISTRY: dict[str, type[Transform]] = {}
_STAGE_SEPARATOR = re.compile(r"\+(?=\s*[A-Za-z_])")  # "+" before a name, not in "1e+0"


def register(cls: type[Transform]) -> type[Transform]:
    """Class decorator: make a transform reachable from its spec name."""
    if cls.name in REGISTRY:
        raise RuntimeError(f"transform name {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


@dataclasses.dataclass(frozen=True)
class Transform:
    """A pure function on a float batch ``(N, C, H, W)``, described by its spec string.

    Subclasses set ``name`` and ``summary``, declare their arguments as dataclass fields,
    validate them in ``_validate`` and compute in ``apply``. Random transforms draw per
    image from ``(seed, index)``, where ``index`` holds each image's position in its set,
    so results do not depend on how a set is cut into batches.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    positional: ClassVar[tuple[str, ...]] = ()
    #: Whether ``fit`` must see the image set before the transform can be applied.
    needs_fit: ClassVar[bool] = False
    #: Whether the output is an image (else a representation: the last stage of a spec).
    is_image: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._validate()

    # -- to override -------------------------------------------------------------------
    def _validate(self) -> None:
        """Raise ``SpecError`` for arguments out of range (no image size known yet)."""

    def check_size(self, height: int, width: int) -> None:
        """Raise ``SpecError`` if the transform cannot run on images of this size."""

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        raise NotImplementedError

    def output_shape(self, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """The ``(C, H, W)`` of outputs for inputs of ``shape`` (images stay images)."""
        return shape

    def fit(self, images: Any) -> Transform:
        """Learn set-level statistics (a no-op for most transforms); returns ``self``."""
        return self

    # -- shared machinery --------------------------------------------------------------
    def __call__(self, x: Tensor, index: Tensor | None = None) -> Tensor:
        """Apply to a float batch ``(N, C, H, W)``.

        ``index`` holds each image's position in its set; it defaults to ``arange(N)``,
        which is right for a whole set in one batch. Random transforms need the true
        indices when a set comes in several batches (``ImageSet.batches(with_index=True)``),
        else every batch repeats the first one's draws.
        """
        if not isinstance(x, Tensor) or x.ndim != 4 or not x.is_floating_point():
            got = f"{tuple(x.shape)} {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"{self}: expected a float tensor (N, C, H, W), got {got}")
        self.check_size(x.shape[-2], x.shape[-1])
        if index is None:
            index = torch.arange(x.shape[0], device=x.device)
        index = torch.as_tensor(index)
        if index.shape != (x.shape[0],):
            raise ValueError(f"{self}: index must have shape ({x.shape[0]},), got {tuple(index.shape)}")
        if x.shape[0] == 0:  # an empty batch (an empty sub-set): FFTs and codecs refuse zero-length inputs
            return x.new_empty((0, *self.output_shape(tuple(x.shape[1:]))))
        if x.dtype in (torch.float16, torch.bfloat16):  # FFTs and codecs need float32
            return self.apply(x.float(), index.to(x.device)).to(x.dtype)
        return self.apply(x, index.to(x.device))

    def fail(self, reason: str) -> SpecError:
        return SpecError(f"{self.name}: {reason}")

    def __str__(self) -> str:
        values = [_format(getattr(self, key)) for key in self.positional]
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name not in self.positional and (field.default is dataclasses.MISSING or value != field.default):
                values.append(f"{field.name}={_format(value)}")
        return self.name + (":" + ",".join(values) if values else "")

    def __repr__(self) -> str:
        return f"transform({str(self)!r})"


@dataclasses.dataclass(frozen=True, repr=False, eq=True)
class Compose(Transform):
    """Stages applied left to right (spec ``a+b``)."""

    stages: tuple[Transform, ...] = ()

    def _validate(self) -> None:
        for stage in self.stages[:-1]:
            if not stage.is_image:
                raise SpecError(f"{stage} must be the last stage (its output is not an image)")

    def check_size(self, height: int, width: int) -> None:
        for stage in self.stages:
            stage.check_size(height, width)

    def output_shape(self, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        for stage in self.stages:
            shape = stage.output_shape(shape)
        return shape

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        for stage in self.stages:
            x = stage.apply(x, index)
        return x

    def fit(self, images: Any) -> Compose:
        """Fit each stage on the outputs of the stages before it."""
        for i, stage in enumerate(self.stages):
            if stage.needs_fit:
                stage.fit(_Mapped(images, Compose(self.stages[:i])))
        return self

    @property
    def needs_fit(self) -> bool:  # type: ignore[override]
        return any(stage.needs_fit for stage in self.stages)

    @property
    def is_image(self) -> bool:  # type: ignore[override]
        return all(stage.is_image for stage in self.stages)

    def __str__(self) -> str:
        return "+".join(str(stage) for stage in self.stages)


class _Mapped:
    """Batches of an image source seen through a transform (used to fit later stages)."""

    def __init__(self, images: Any, transform: Compose) -> None:
        self.images, self.transform = images, transform

    def __iter__(self):
        for index, x in iter_batches(self.images):
            yield index, self.transform.apply(x, index)


def iter_batches(images: Any) -> Iterable[tuple[Tensor, Tensor]]:
    """Yield ``(index, float batch)`` from a tensor, an ``ImageSet`` or such pairs."""
    if isinstance(images, Tensor):
        x = images if images.is_floating_point() else images.float() / 255
        yield torch.arange(x.shape[0], device=x.device), x
    elif hasattr(images, "batches"):
        yield from images.batches(with_index=True)
    else:
        yield from images


def transform(spec: str | Transform, size: tuple[int, int] | int | None = None) -> Transform:
    """Parse a spec string (``"lowpass:0.15"``, ``"lowpass:0.25+patchshuffle:4"``).

    With ``size`` (``(H, W)`` or ``S``), size-dependent arguments are checked now too.
    Errors are one-line ``SpecError`` messages naming the spec and the valid range.
    """
    if isinstance(spec, Transform):
        result = spec
    else:
        if not isinstance(spec, str) or not spec.strip():
            raise SpecError(f"transform spec must be a non-empty string, got {spec!r}")
        stages = [_parse_stage(part.strip(), spec) for part in _STAGE_SEPARATOR.split(spec)]
        try:
            result = stages[0] if len(stages) == 1 else Compose(stages=tuple(stages))
        except SpecError as err:
            raise SpecError(f"{spec}: {err}") from None
    if size is not None:
        height, width = (size, size) if isinstance(size, int) else size
        try:
            result.check_size(height, width)
        except SpecError as err:
            raise SpecError(f"{spec}: {err}") from None
    return result


def _parse_stage(text: str, spec: str) -> Transform:
    name, _, argtext = text.partition(":")
    name = name.strip()
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise SpecError(f"{spec}: unknown transform {name!r}{did_you_mean(name, REGISTRY)}; known: {known}")
    cls = REGISTRY[name]
    try:
        return cls(**_parse_args(cls, argtext))
    except SpecError as err:
        raise SpecError(f"{spec}: {err}") from None
    except TypeError:  # a required argument is missing
        raise SpecError(f"{spec}: missing argument; {_usage(cls)}") from None


def _parse_args(cls: type[Transform], argtext: str) -> dict[str, Any]:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    raw: dict[str, list[str]] = {}
    positional: list[str] = []
    current: str | None = None
    for token in (t.strip() for t in argtext.split(",")) if argtext.strip() else []:
        if not token:
            raise SpecError(f"{cls.name}: empty argument (a stray comma?); {_usage(cls)}")
        if "=" in token:
            current, _, value = token.partition("=")
            current = current.strip()
            if current not in fields or current in cls.positional:
                known = [f for f in fields if f not in cls.positional]
                raise SpecError(f"{cls.name}: unknown argument {current!r}{did_you_mean(current, known)}; {_usage(cls)}")
            if current in raw:
                raise SpecError(f"{cls.name}: argument {current!r} given twice")
            raw[current] = [value.strip()]
        elif current is not None and _is_pair(hints[current]) and len(raw[current]) < 2:
            raw[current].append(token)
        elif current is None:
            positional.append(token)
        else:
            raise SpecError(f"{cls.name}: positional argument {token!r} after keywords; {_usage(cls)}")
    if len(positional) > len(cls.positional):
        raise SpecError(f"{cls.name}: too many arguments; {_usage(cls)}")
    for key, value in zip(cls.positional, positional):
        raw[key] = [value]
    return {key: _convert(cls, key, hints[key], values) for key, values in raw.items()}


def _strip_optional(hint: Any) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1 else hint


def _is_pair(hint: Any) -> bool:
    return typing.get_origin(_strip_optional(hint)) is tuple


def _convert(cls: type[Transform], key: str, hint: Any, values: list[str]) -> Any:
    hint = _strip_optional(hint)
    if _is_pair(hint):
        if len(values) != 2:
            raise SpecError(f"{cls.name}: {key} takes two values ({key}=a,b)")
        item = typing.get_args(hint)[0]
        return tuple(_convert_one(cls, key, item, v) for v in values)
    return _convert_one(cls, key, hint, values[0])


def _convert_one(cls: type[Transform], key: str, hint: Any, value: str) -> Any:
    try:
        if hint is float:
            return float(value)
        if hint is int:
            return int(value)
        if hint is bool:
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return value.lower() in ("true", "1")
    except ValueError:
        raise SpecError(f"{cls.name}: {key} must be {hint.__name__}, got {value!r}") from None
    return value


def _usage(cls: type[Transform]) -> str:
    parts = list(cls.positional)
    for field in dataclasses.fields(cls):
        if field.name not in cls.positional:
            default = "..." if field.default in (dataclasses.MISSING, None) else _format(field.default)
            parts.append(f"{field.name}={default}")
    return f"usage: {cls.name}" + (":" + ",".join(parts) if parts else "")


def _format(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(_format(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def usage(name: str) -> str:
    """The spec grammar of one registered transform, e.g. ``lowpass:cutoff,window=ideal``."""
    return _usage(REGISTRY[name])


@register
@dataclasses.dataclass(frozen=True, repr=False)
class Original(Transform):
    """The identity: the images as they are (the reference variant of every study)."""

    name = "original"
    summary = "the images unchanged"

    def apply(self, x: Tensor, index: Tensor) -> Tensor:
        return x
