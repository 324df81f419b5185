"""What the ``{gpumem}`` role can print: a whitelist of quantities computed from their arguments.

The role's text is ``<quantity> key=value …``. Each quantity is a function below; its keyword
parameters are the keys it accepts, all given as text and checked here. Nothing is evaluated.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from ..errors import InvalidValueError, UnknownNameError
from .formatting import format_count, format_size, significant

__all__ = ["QUANTITIES", "compute", "number", "number_or_text", "parse"]


def parse(text: str) -> tuple[str, dict[str, str]]:
    """Split ``"weights params=7e9 dtype=fp16"`` into the quantity name and its arguments."""
    name, *pairs = text.split() or [""]
    if name not in QUANTITIES:
        raise UnknownNameError("quantity", name, QUANTITIES)
    arguments: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if not key or not value or key in arguments:
            raise InvalidValueError("argument", pair, "key=value pairs, each key once")
        arguments[key] = value
    return name, arguments


def compute(text: str, language: str, default_unit: str) -> str:
    """The text that ``{gpumem}`text``` shows on a page in ``language``."""
    name, arguments = parse(text)
    function = QUANTITIES[name]
    parameters = inspect.signature(function).parameters
    if "unit" in parameters:
        arguments.setdefault("unit", default_unit)
    open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    accepted = _keys(function)
    for key in arguments:
        if key not in accepted and not open_ended:
            raise UnknownNameError(f"argument of {name}", key, accepted)
    for key, parameter in parameters.items():
        if parameter.default is parameter.empty and key not in arguments and key in accepted:
            raise InvalidValueError(f"arguments of {name}", text, f"a value for {key}=")
    return function(language=language, **arguments)


def number(value: str, name: str) -> int | float:
    """``value`` as an exact int when it is whole (``"7e9"`` → 7000000000), else a float."""
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise InvalidValueError(name, value, "a number such as 7e9 or 0.5") from None
    if not parsed.is_finite() or parsed < 0:
        raise InvalidValueError(name, value, "a finite number ≥ 0")
    return int(parsed) if parsed == parsed.to_integral_value() else float(parsed)


def _digits(value: str) -> int:
    digits = number(value, "digits")
    if not isinstance(digits, int) or digits > 12:
        raise InvalidValueError("digits", value, "a whole number from 0 to 12")
    return digits


def _parameters(params: str | None, model: str | None) -> int:
    if (params is None) == (model is None):
        raise InvalidValueError("arguments", f"params={params} model={model}", "params or model")
    if model is not None:
        from ..catalog import load_model

        return load_model(model).parameters
    return int(number(params, "params"))


def weights(
    *,
    language: str,
    dtype: str,
    unit: str,
    params: str | None = None,
    model: str | None = None,
    digits: str = "2",
) -> str:
    """Memory of the weights: ``weights params=7e9 dtype=fp16 unit=GB`` → ``14 GB``."""
    from ..precision import weight_bytes

    return format_size(weight_bytes(_parameters(params, model), dtype), unit, _digits(digits))


def params(*, language: str, model: str, digits: str = "4") -> str:
    """Parameter count of a catalog model: ``params model=llama-3.1-405b`` → ``405.9 billion``."""
    return format_count(_parameters(None, model), language, _digits(digits))


def count(*, language: str, n: str, digits: str = "4") -> str:
    """A count written in the page's language: ``count n=7e9`` → ``7 billion`` / ``70 亿``."""
    return format_count(number(n, "n"), language, _digits(digits))


def bits(*, language: str, dtype: str) -> str:
    """Storage bits per value, scales included: ``bits dtype=mxfp4`` → ``4.25``."""
    from ..precision import get_format

    return significant(float(get_format(dtype).bits), 6)


def bytes_per_param(*, language: str, dtype: str) -> str:
    """Bytes per value: ``bytes-per-param dtype=bf16`` → ``2``."""
    from ..precision import get_format

    return significant(float(get_format(dtype).bytes_per_param), 6)


def gpu_memory(*, language: str, gpu: str, unit: str, digits: str = "2") -> str:
    """Memory of a catalog GPU: ``gpu-memory gpu=h100-sxm unit=GB`` → ``80 GB``."""
    from ..hardware import get_gpu

    return format_size(get_gpu(gpu).memory_bytes, unit, _digits(digits))


def estimate(
    *,
    language: str,
    model: str,
    unit: str,
    digits: str = "2",
    component: str | None = None,
    **options: str,
) -> str:
    """Total (or one ``component``) of :func:`gpumem.estimate`.

    ``estimate model=llama-2-7b mode=training seq=2048 unit=GiB``; the other keys are the
    fields of :class:`gpumem.workload.Workload`, numbers where they parse as numbers.
    """
    import gpumem

    from ..workload import Workload

    accepted = list(Workload._fields)
    for key in options:
        if key not in accepted:
            raise UnknownNameError("argument of estimate", key, accepted)
    values = {key: number_or_text(value, key) for key, value in options.items()}
    result = gpumem.estimate(model, **values)
    if component is None:
        n_bytes = result.total_bytes
    elif component in result.components:
        n_bytes = result.components[component]
    else:
        raise UnknownNameError("component", component, result.components)
    return format_size(n_bytes, unit, _digits(digits))


def number_or_text(value: str, name: str) -> int | float | str:
    try:
        return number(value, name)
    except InvalidValueError:
        return value


def _keys(function: Callable[..., object]) -> list[str]:
    """Names of the keyword arguments ``function`` accepts, ``language`` left out."""
    parameters = inspect.signature(function).parameters.values()
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in parameters if p.kind in named and p.name != "language"]


QUANTITIES: dict[str, Callable[..., str]] = {
    "weights": weights,
    "params": params,
    "count": count,
    "bits": bits,
    "bytes-per-param": bytes_per_param,
    "gpu-memory": gpu_memory,
    "estimate": estimate,
}
