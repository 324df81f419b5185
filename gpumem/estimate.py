"""Peak GPU memory of a model under a workload: :func:`estimate`.

This module maps a :class:`~gpumem.modelspec.ModelSpec` and a
:class:`~gpumem.workload.Workload` onto the symbols of the memory model and evaluates the
formulas generated from it (:mod:`gpumem._generated.formulas`). It holds no formula itself.
"""

from __future__ import annotations

import math
from functools import cache

from . import _data
from ._generated import formulas as fx
from ._record import Record
from .errors import ConfigError, InvalidValueError, ParallelismError, Text, UnknownNameError
from .modelspec import ModelSpec
from .precision import Format, get_format
from .workload import DEFAULT_SEQ, Workload

_PROFILES = "data/activation_profiles.json"
#: Symbol suffix of each activation shape of a profile (``a_h`` for ``h`` …).
_SHAPES = {
    "h": "h",
    "q": "q",
    "kv": "k",
    "f": "f",
    "heads": "n",
    "scores": "s",
    "experts": "e",
    "routed": "r",
}


class Estimate(Record):
    """Peak memory per GPU, with the components live at that peak.

    Attributes
    ----------
    components
        Bytes per component at the peak (``weights``, ``kv_cache``, ``activations``, …,
        ``cuda_context``, ``allocator_reserve``). They add up to ``total_bytes``.
    phase
        When the peak occurs: ``"prefill"``, ``"forward"``, ``"backward"`` or ``"optimizer"``.
    phases
        Tensor bytes at the end of every phase of a training step (empty for inference).
    """

    model: ModelSpec
    workload: Workload
    components: dict[str, int]
    phase: str
    phases: dict[str, int]

    @property
    def total_bytes(self) -> int:
        """Everything one GPU needs at the peak, runtime overhead included."""
        return sum(self.components.values())

    @property
    def tensor_bytes(self) -> int:
        """Bytes of live tensors at the peak (what ``torch.cuda.max_memory_allocated`` sees)."""
        overhead = ("cuda_context", "allocator_reserve")
        return sum(v for k, v in self.components.items() if k not in overhead)


@cache
def _profiles() -> dict[str, dict]:
    raw = _data.load_json(_data.path("activation_profiles.json"))
    by_id: dict[str, dict] = {}
    by_family: dict[str, dict] = {}
    for profile in raw["profiles"]:
        if not profile.get("source") or profile["id"] in by_id:
            raise ConfigError(_PROFILES, f"profile {profile['id']!r} lacks a source or repeats")
        if "extends" in profile:
            profile = _extend(by_id[profile["extends"]], profile)
        by_id[profile["id"]] = profile
        for family in profile["families"]:
            by_family[family] = profile
    return by_family


def _extend(base: dict, profile: dict) -> dict:
    """``profile`` on top of ``base``: a table of tables (``saved``, ``logits``) replaces the
    base's entries one by one; anything else (a table of counts, a text) replaces it whole."""
    merged = dict(base)
    for key, value in profile.items():
        nested = isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
        merged[key] = {**base.get(key, {}), **value} if nested else value
    return merged


def _bytes(counts: dict[str, int], b_a: float) -> float:
    """Bytes per element of one shape, from tensor counts by dtype."""
    return fx.saved_bytes_per_element(
        b_a=b_a,
        c_a=counts.get("act", 0),
        c_32=counts.get("fp32", 0),
        c_1=counts.get("byte", 0),
        c_u=counts.get("upcast", 0),
    )


def _profile(model: ModelSpec) -> dict:
    try:
        return _profiles()[model.family]
    except KeyError:
        return _profiles()["llama"]


def _bytes_per_value(fmt: Format) -> float:
    """``float(fmt.bytes_per_param)``, without building a Fraction."""
    numerator, denominator = fmt.bits_ratio
    return numerator / (8 * denominator)


def _linear_features(m: ModelSpec) -> int:
    """Sum of in + out features over the linear layers of one (dense-equivalent) layer."""
    q, kv = m.n_heads * m.head_dim, m.n_kv_heads * m.head_dim
    attention = (m.hidden_size + q) * 2 + (m.hidden_size + kv) * 2
    mlp = (3 if m.gated_mlp else 2) * (m.hidden_size + _mlp_width(m))
    return attention + mlp


def _mlp_width(m: ModelSpec) -> int:
    """MLP channels a token passes through (active experts and shared experts for MoE)."""
    if not m.is_moe:
        return m.intermediate_size
    return (
        m.n_experts_active * m.moe_intermediate_size
        + m.n_shared_experts * m.shared_intermediate_size
    )


def _check_against_model(m: ModelSpec, w: Workload) -> None:
    if w.seq > m.max_context:
        raise InvalidValueError(
            "seq",
            w.seq,
            Text(
                "at most the context window of {model}, {tokens:,} tokens",
                model=m.name,
                tokens=m.max_context,
            ),
        )
    if m.n_heads % w.tp:
        raise ParallelismError(
            Text(
                "tp={tp} does not divide the {heads} attention heads of {model}",
                tp=w.tp,
                heads=m.n_heads,
                model=m.name,
            ),
            hint=Text("use a tp that divides {heads}", heads=m.n_heads),
        )
    if w.pp > m.n_layers:
        raise ParallelismError(
            Text(
                "pp={pp} is more than the {layers} layers of {model}",
                pp=w.pp,
                layers=m.n_layers,
                model=m.name,
            )
        )


def model_symbols(m: ModelSpec, w: Workload) -> dict[str, float]:
    """Values of the model and workload symbols of :mod:`gpumem.symbolic`."""
    _check_against_model(m, w)
    act = get_format(w.dtype)
    bits, per = act.bits_ratio
    b_a = _bytes_per_value(act) if act.kind == "float" and bits >= 16 * per else 2.0
    kv_fmt = get_format(w.kv_dtype) if w.kv_dtype else None
    values: dict[str, float] = {
        "P": m.parameters,
        "P_a": m.active_parameters,
        "L": m.n_layers,
        "h": m.hidden_size,
        "n_h": m.n_heads,
        "n_kv": m.n_kv_heads,
        "d_h": m.head_dim,
        "f": _mlp_width(m),
        "n_e": m.n_experts if m.is_moe else 0,
        "k_e": m.n_experts_active if m.is_moe else 0,
        "V": m.vocab_size,
        "L_w": m.n_sliding_layers,
        "w": m.sliding_window or 1,
        "F": _linear_features(m),
        "B": w.batch,
        "s": w.seq,
        "b_w": _bytes_per_value(get_format(w.dtype)),
        "b_kv": _bytes_per_value(kv_fmt) if kv_fmt else b_a,
        "b_a": b_a,
        "N_dp": w.dp,
        "N_tp": w.tp,
        "N_pp": w.pp,
        "z_1": int(w.zero >= 1),
        "z_2": int(w.zero >= 2),
        "z_3": int(w.zero >= 3),
    }
    if m.causal:
        values["e_kv"] = (
            fx.kv_values_mla(c_kv=m.kv_lora_rank, d_r=m.qk_rope_head_dim)
            if m.uses_mla
            else fx.kv_values_gqa(n_kv=m.n_kv_heads, d_h=m.head_dim, N_tp=w.tp)
        )
    else:
        values["e_kv"] = 0
    return values


def _activation_symbols(m: ModelSpec, w: Workload, b_a: float) -> dict[str, float]:
    profile = _profile(m)
    amp = w.resolved_precision == "amp" and w.lora_rank is None
    if amp:
        profile = _extend(profile, profile["amp"])
    saved = profile["saved"]
    fused = w.attention == "flash" or w.resolved_checkpointing == "selective"
    alphas = {f"a_{key}": _bytes(saved.get(shape, {}), b_a) for shape, key in _SHAPES.items()}
    if fused:
        alphas["a_s"] = 0.0
    return {
        **alphas,
        "a_i": _bytes(profile["checkpoint_input"], b_a),
        "g_c": int(w.resolved_checkpointing == "full"),
        "l_f": _bytes(profile["logits"]["forward"], b_a),
        "l_b": _bytes(profile["logits"]["backward"], b_a),
        "P_m": m.parameters - m.embedding_parameters + m.vocab_size * m.hidden_size,
        "b_c": b_a if amp else 0.0,
    }


def _inference_symbols(m: ModelSpec, w: Workload, b_a: float) -> dict[str, float]:
    profile = _profile(m)
    work = profile["inference"]
    return {
        "i_h": _bytes(work["h"], b_a),
        "i_f": _bytes(work["f"], b_a),
        "i_r": _bytes(work.get("routed", {}), b_a),
        "i_s": 0.0 if w.attention == "flash" else _bytes(work["scores"], b_a),
        "s_l": 1 if w.resolved_logits == "last" else w.seq,
        "l_i": _bytes(profile["logits"]["inference"], b_a),
    }


def _factored_rows_cols(m: ModelSpec, lora: bool) -> int:
    """Rows plus columns of the trainable matrices (what Adafactor keeps)."""
    embeddings = 0 if lora else m.vocab_size + m.hidden_size
    return m.n_layers * _linear_features(m) + embeddings


def _training_symbols(m: ModelSpec, w: Workload, v: dict[str, float]) -> dict[str, float]:
    precision, optimizer = w.resolved_precision, w.resolved_optimizer
    b_dtype = _bytes_per_value(get_format(w.dtype))
    lora = w.lora_rank is not None
    # LoRA adapters stay in FP32 on a low-precision base (peft's default); full training keeps
    # FP32 trainable state for mixed precision and AMP, the dtype itself for pure training.
    b_train = 4.0 if lora or precision in ("mixed", "amp") else b_dtype
    trainable = fx.lora_parameters(L=m.n_layers, F=v["F"], r=w.lora_rank) if lora else m.parameters
    return {
        "P_t": trainable,
        "R": _factored_rows_cols(m, lora),
        "b_w": 4.0 if precision == "amp" and not lora else v["b_w"],
        "b_l": b_train if lora else 0.0,
        "b_g": b_train if lora or precision == "amp" else b_dtype,
        "b_m": 4.0 if precision == "mixed" and not lora else 0.0,
        "b_o": optimizer.state_bytes if optimizer.state_bytes is not None else b_train,
        "n_o": optimizer.states_per_param,
        "n_f": int(optimizer.factored),
        "t_o": int((w.optimizer_impl or "foreach") == "foreach"),
        **_activation_symbols(m, w, v["b_a"]),
    }


def symbol_values(m: ModelSpec, w: Workload) -> dict[str, float]:
    """Every input symbol the formulas of ``w.mode`` need, for ``m`` under ``w``."""
    values = model_symbols(m, w)
    if w.training:
        values.update(_training_symbols(m, w, values))
    else:
        values.update(_inference_symbols(m, w, values["b_a"]))
    return values


def evaluate(names: tuple[str, ...], values: dict[str, object]) -> dict[str, object]:
    """Evaluate generated formulas in order, each result becoming an input of the next."""
    values = dict(values)
    for name in names:
        function = getattr(fx, name)
        code = function.__code__
        values[name] = function(**{k: values[k] for k in code.co_varnames[: code.co_argcount]})
    return values


INFERENCE = ("weights", "kv_cache", "prefill_workspace", "logits_inference", "inference_peak")
TRAINING = (
    "weights",
    "adapter_weights",
    "master_weights",
    "gradients",
    "optimizer_states",
    "optimizer_temporaries",
    "layer_activations",
    "activations_training",
    "autocast_copies",
    "logits_forward",
    "logits_backward",
    "recomputed_layer",
    "autocast_copies_kept",
    "phase_forward",
    "phase_backward",
    "phase_optimizer",
    "training_peak",
)
_PERSISTENT = ("weights", "adapter_weights", "master_weights", "optimizer_states")
#: Components live at the end of each phase, as named in :attr:`Estimate.components`.
LIVE = {
    "prefill": {"weights": "weights", "kv_cache": "kv_cache"},
    "forward": {
        **{k: k for k in _PERSISTENT},
        "activations_training": "activations",
        "autocast_copies": "autocast_copies",
        "logits_forward": "logits",
    },
    "backward": {
        **{k: k for k in _PERSISTENT},
        "activations_training": "activations",
        "autocast_copies_kept": "autocast_copies",
    },
    "optimizer": {
        **{k: k for k in _PERSISTENT},
        "gradients": "gradients",
        "optimizer_temporaries": "optimizer_temporaries",
    },
}


#: Phases whose peak holds the larger of two transient components (a ``Max`` in the model).
LARGER_OF = {
    "prefill": {"prefill_workspace": "prefill_workspace", "logits_inference": "logits"},
    "backward": {"logits_backward": "logits", "recomputed_layer": "recomputed_layer"},
}


def _components(v: dict[str, float], training: bool) -> tuple[dict[str, float], str, dict]:
    phases = {p: v[f"phase_{p}"] for p in ("forward", "backward", "optimizer")} if training else {}
    phase = max(phases, key=phases.__getitem__) if training else "prefill"
    live = dict(LIVE[phase])
    if phase in LARGER_OF:
        larger = max(LARGER_OF[phase], key=v.__getitem__)
        live[larger] = LARGER_OF[phase][larger]
    return {name: v[key] for key, name in live.items()}, phase, phases


def estimate(
    model: ModelSpec | str, workload: Workload | None = None, **settings: object
) -> Estimate:
    """Peak memory one GPU needs to run ``model`` under ``workload``.

    Parameters
    ----------
    model
        A :class:`ModelSpec`, a catalog name, a ``config.json`` path or a model directory.
    workload
        A :class:`Workload`; or pass its fields as keyword arguments
        (``estimate("llama-2-7b", mode="training", batch=4)``).

    Raises
    ------
    GpumemError
        For an unknown model or setting, or parallel sizes the model cannot use.
    """
    from .catalog import load_model

    spec = model if isinstance(model, ModelSpec) else load_model(model)
    work = workload.with_(**settings) if workload else Workload(**settings)
    if work.seq is None:
        work = work.with_(seq=min(DEFAULT_SEQ, spec.max_context))
    values = evaluate(TRAINING if work.training else INFERENCE, symbol_values(spec, work))
    raw, phase, phases = _components(values, work.training)
    components = {k: math.ceil(x) for k, x in raw.items() if x > 0}
    tensors = sum(components.values())
    if work.cuda_context:
        components["cuda_context"] = work.cuda_context
    reserve = fx.runtime_overhead(C=0, rho=work.allocator_reserve, M_tensors=tensors)
    if reserve:
        components["allocator_reserve"] = math.ceil(reserve)
    return Estimate(spec, work, components, phase, {k: math.ceil(x) for k, x in phases.items()})


def rule_of_thumb(parameters: int, dtype: str, mode: str) -> int:
    """The popular shortcut: parameters × bytes × 1.2 for inference, × 2 for training.

    A baseline to compare against, never an estimate.
    """
    multipliers = {"inference": 1.2, "training": 2.0}
    if mode not in multipliers:
        raise UnknownNameError("mode", str(mode), multipliers)
    multiplier = multipliers[mode]
    return math.ceil(
        fx.rule_of_thumb(P=parameters, b_w=_bytes_per_value(get_format(dtype)), k_r=multiplier)
    )
