"""Peak GPU memory of a model under a workload: :func:`estimate`.

This module maps a :class:`~gpumem.modelspec.ModelSpec` and a
:class:`~gpumem.workload.Workload` onto the inputs of the memory model (the model's sizes,
the workload's flags, bytes per value, the activation profile of the family), evaluates the
formulas generated from it (:mod:`gpumem._generated.formulas`) and assembles the breakdown
from the tables printed with them: which terms each phase adds up. It holds no formula itself.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from functools import cache

from . import _data
from ._generated import formulas as fx
from ._record import Factory, Record
from .catalog import load_model
from .errors import ConfigError, InvalidValueError, ParallelismError, Text, UnknownNameError
from .i18n import N_
from .modelspec import SHIPPED_KEYS, ModelSpec, final_norm_parameters
from .precision import bytes_per_value, get_format
from .workload import DEFAULT_SEQ, LORA_TARGETS, MODES, Workload

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
        ``cuda_context``, ``allocator_reserve``); those that are zero are left out.
    phase
        When the peak occurs: ``"prefill"``, ``"decode"``, ``"forward"``, ``"backward"``,
        ``"optimizer"`` or ``"backward_end"`` (with FSDP2, the end of the backward pass, before
        the root's gradients are reduced).
    phases
        Tensor bytes at the end of every phase of a training step (empty for inference).
    tensor_bytes
        Bytes of live tensors at the peak (what ``torch.cuda.max_memory_allocated`` sees).
    total_bytes
        Everything one GPU needs at the peak, runtime overhead included.
    pipeline_stage
        With pipeline parallelism, the stage whose GPU the estimate is for, the one holding the
        most parameters: ``heaviest`` (``"first"``: the input embeddings; ``"last"``: the LM
        head and the final norm), its ``layers`` and its ``parameters``; empty without it.
    kv_cache_layers
        Bytes of the KV cache by kind of layer (``full``, ``sliding``, ``chunked``, ``latent``,
        ``recurrent``: see :attr:`~gpumem.modelspec.ModelSpec.layer_types`), the kinds the
        model has; empty in training, which keeps no cache.
    """

    model: ModelSpec
    workload: Workload
    components: dict[str, int]
    phase: str
    phases: dict[str, int]
    tensor_bytes: int
    total_bytes: int
    kv_cache_layers: dict[str, int] = Factory(dict)
    pipeline_stage: dict[str, object] = Factory(dict)


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


#: Dense families whose layers hold q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj and
#: down_proj (transformers' modeling_llama.py, modeling_mistral.py, modeling_qwen2.py,
#: modeling_qwen3.py, modeling_gemma2.py, modeling_gemma3.py): LoRA may target a subset.
LLAMA_NAMED = frozenset({"llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "gemma3_text"})


def _check_against_model(m: ModelSpec, w: Workload) -> None:
    if m.extra.get("tensor_bytes"):
        _check_against_file(w)
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
    if w.new_tokens is not None and w.seq + w.new_tokens > m.max_context:
        raise InvalidValueError(
            "new_tokens",
            w.new_tokens,
            Text(
                "at most {room:,}: the prompt and the new tokens must fit the context window "
                "of {model}, {tokens:,} tokens",
                room=m.max_context - w.seq,
                model=m.name,
                tokens=m.max_context,
            ),
        )
    if w.adapted is not None and m.family not in LLAMA_NAMED:
        raise InvalidValueError(
            "lora_targets",
            w.lora_targets,
            Text(
                "all-linear for {model}: its linear layers are not named as in Llama "
                "(q_proj … down_proj)",
                model=m.name,
            ),
        )
    if w.qlora and m.family not in LLAMA_NAMED:
        raise InvalidValueError(
            "dtype",
            w.dtype,
            Text(
                "fp32, fp16 or bf16 for LoRA on {model}: QLoRA (nf4) is modelled on dense "
                "models whose linear layers are named as in Llama (q_proj … down_proj)",
                model=m.name,
            ),
        )
    if w.lora_rank is not None and w.lora_rank > m.hidden_size:
        raise InvalidValueError(
            "lora_rank",
            w.lora_rank,
            Text(
                "at most the hidden size of {model}, {hidden:,}",
                model=m.name,
                hidden=m.hidden_size,
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


#: Bytes per value of a recurrent layer's temporal state in transformers' cache: FP32 whatever
#: the model's dtype. The gated delta rule (modeling_qwen3_next.py and modeling_qwen3_5.py,
#: torch_chunk_gated_delta_rule) computes in FP32 and returns its final state so, as does
#: Mamba-2's scan (modeling_nemotron_h.py); LinearAttentionLayer.update_recurrent_state
#: (cache_utils.py) keeps a zeros_like copy of it. Its convolution window holds the whole
#: kernel (LinearAttentionLayer.lazy_initialization: conv_kernel_size positions), the current
#: position too, in the activations' dtype.
TEMPORAL_STATE_BYTES = 4

#: Formats of the activations a GGUF file's model may be estimated with (llama.cpp computes in
#: 16 bits); the weights are the file's own bytes whatever the workload's dtype.
_GGUF_DTYPES = ("fp16", "bf16")


def _check_against_file(w: Workload) -> None:
    """A model read from a GGUF file is estimated for inference, its weights as stored."""
    if w.training:
        raise InvalidValueError(
            "mode", w.mode, Text("inference for a GGUF file (its weights are stored quantised)")
        )
    if w.weights_as_shipped:
        raise InvalidValueError(
            "weights_as_shipped",
            True,
            Text("false for a GGUF file: its weights are counted as stored in the file"),
        )
    if get_format(w.dtype).name not in _GGUF_DTYPES:
        raise InvalidValueError(
            "dtype",
            w.dtype,
            Text(
                "fp16 or bf16 for a GGUF file: its weights are counted as stored in the file; "
                "the dtype sets only the activations"
            ),
        )


def model_inputs(m: ModelSpec) -> dict[str, int]:
    """The model's sizes, as the inputs of the memory model."""
    moe_layers = m.n_layers - m.n_dense_layers if m.is_moe else 0
    shipped = m.extra.get("quantization") or {}
    quantized = shipped.get("quantized", ())
    return {
        "P": m.parameters,
        "P_a": m.active_parameters,
        "P_e": m.embedding_parameters,
        "L": m.n_layers,
        "h": m.hidden_size,
        "n_h": m.n_heads,
        "n_kv": m.n_kv_heads,
        "d_h": m.head_dim,
        "f_d": 0 if m.is_moe else m.intermediate_size,
        "f_e": m.moe_intermediate_size,
        "n_s": m.n_shared_experts,
        "f_s": m.shared_intermediate_size,
        "m_g": 3 if m.gated_mlp else 2,
        "n_e": m.n_experts,
        "k_e": m.n_experts_active,
        "V": m.vocab_size,
        "c_kv": m.kv_lora_rank,
        "d_r": m.qk_rope_head_dim,
        "c_q": int(m.extra.get("q_lora_rank", 0)),
        "d_v": int(m.extra.get("v_head_dim", 0)),
        "k_c": int(m.causal),
        "L_w": m.n_sliding_layers,
        "w": m.sliding_window or 1,
        "L_c": m.n_chunked_layers,
        "w_c": m.attention_chunk or 1,
        "L_r": m.n_recurrent_layers,
        "e_r": m.recurrent_state,
        "e_t": int(m.extra.get("recurrent_temporal_state", 0)),
        "c_r": int(m.extra.get("recurrent_conv_channels", 0)),
        "n_g": int(m.extra.get("recurrent_value_heads", 0)),
        "d_gk": int(m.extra.get("recurrent_key_dim", 0)),
        "d_gv": int(m.extra.get("recurrent_value_dim", 0)),
        "L_n": m.n_mlp_layers,
        "W_f": int(m.extra.get("tensor_bytes", 0)),
        "t_w": int(m.tie_word_embeddings),
        "P_n": final_norm_parameters(m),
        "L_e": moe_layers,
        "L_d": m.n_mlp_layers or m.n_layers - moe_layers,
        "f_x": m.intermediate_size,
        "g_q": int(bool(m.extra.get("attention_output_gate"))),
        **_shipped_flags(quantized, ""),
        **_shipped_flags(shipped.get("second_quantized", ()), "2"),
        "P_v": int(m.extra.get("vision_linear_parameters", 0)),
    }


def _shipped_flags(quantized: Iterable[str], suffix: str) -> dict[str, int]:
    """The flags q_a … q_v (``suffix`` "2": of the second format) of the modules shipped
    quantized (:data:`~gpumem.modelspec.SHIPPED_KEYS`)."""
    quantized = set(quantized)
    return {f"q_{key}{suffix}": int(m in quantized) for m, key in SHIPPED_KEYS.items()}


#: Why weights are not counted as shipped, by the key of the spec's quantization that lists the
#: modules in question: exclusion patterns gpumem cannot place, and a MIXED_PRECISION
#: checkpoint's modules without one format gpumem counts.
_UNCOUNTED = {
    "unplaced": N_(
        "false for {model}: its quantization_config excludes {modules}, which gpumem "
        "cannot place (a module of some layers or some of its parts only, or one it does "
        "not count apart)"
    ),
    "unresolved": N_(
        "false for {model}: its quantized_layers leave {modules} without one format in "
        "every layer and part, or in one gpumem does not count; accepted: NVFP4, "
        "W4A16_NVFP4 or FP8 for each module, the same in all its layers, or none"
    ),
}


def _shipped_inputs(m: ModelSpec, w: Workload) -> dict[str, float]:
    """Whether the weights are counted as the checkpoint ships them, and the bytes per weight
    of its quantized format; refused for a model whose checkpoint gpumem cannot count so."""
    if not w.weights_as_shipped:  # QLoRA's linear layers in NF4, else nothing quantized
        return {"x_s": 0, "b_q": bytes_per_value(w.dtype) if w.qlora else 0, "b_q2": 0}
    shipped = m.extra.get("quantization")
    if shipped is None:
        problem = Text(
            "false for {model}: its config.json has no quantization_config, so every weight "
            "is in the dtype",
            model=m.name,
        )
    elif shipped["format"] is None:
        problem = Text(
            "false for {model}: its quant_method {method!r} is not one gpumem counts (mxfp4; "
            "fp8 in 128 × 128 blocks of e4m3; modelopt with quant_algo NVFP4 in groups of 16, "
            "or FP8)",
            model=m.name,
            method=shipped["method"],
        )
    elif named := next((key for key in _UNCOUNTED if shipped.get(key)), None):
        modules = ", ".join(shipped[named])
        problem = Text(_UNCOUNTED[named], model=m.name, modules=modules)
    else:
        second = shipped.get("second_format")
        return {
            "x_s": 1,
            "b_q": bytes_per_value(shipped["format"]),
            "b_q2": bytes_per_value(second) if second else 0,
        }
    raise InvalidValueError("weights_as_shipped", True, problem)


def _workload_inputs(w: Workload) -> dict[str, float]:
    """The workload's sizes, flags and bytes per value, as the inputs of the memory model."""
    dtype = get_format(w.dtype)
    optimizer = w.resolved_optimizer
    return {
        "B": w.batch,
        "s": w.seq,
        "n_t": w.new_tokens or 0,
        "m_t": int(w.training),
        "x_l": int(w.resolved_logits == "all"),
        "r": w.lora_rank or 0,
        "u_l": int(w.lora_rank is not None),
        "y_a": int(w.adapted is None),
        **{f"j_{name[0]}": int(name in (w.adapted or ())) for name in LORA_TARGETS},
        "b_u": bytes_per_value(w.resolved_adapter_dtype),
        "o_l": int(bool(w.lora_dropout)),
        "q_4": int(w.qlora),
        "p_m": int(w.training and w.resolved_precision == "mixed"),
        "p_a": int(w.training and w.resolved_precision == "amp"),
        "b_d": bytes_per_value(dtype.name),
        "x_f": int(dtype.kind == "float"),
        "b_k": bytes_per_value(w.kv_dtype) if w.kv_dtype else 0,
        "b_r": TEMPORAL_STATE_BYTES,
        "b_s": optimizer.state_bytes or 0,
        "n_o": optimizer.states_per_param,
        "n_f": int(optimizer.factored),
        "t_o": int((w.optimizer_impl or "foreach") == "foreach"),
        "N_dp": w.dp,
        "N_tp": w.tp,
        "N_pp": w.pp,
        "z_1": int(w.zero >= 1),
        "z_2": int(w.zero >= 2),
        "z_3": int(w.zero >= 3),
        "y_f": int(w.fsdp),
    }


def _activation_inputs(m: ModelSpec, w: Workload, b_a: float) -> dict[str, float]:
    """Bytes per element of what the family keeps live: saved for the backward pass in
    training, inside one layer at inference."""
    profile = _profile(m)
    if w.training and w.resolved_precision == "amp" and w.lora_rank is None:
        profile = _extend(profile, profile["amp"])
    if w.training and w.lora_rank is not None and "lora" in profile:
        profile = _extend(profile, profile["lora"])
    saved = profile["saved"]
    recomputed = w.resolved_checkpointing == "selective"  # attention's own tensors not kept
    alphas = {f"a_{key}": _bytes(saved.get(shape, {}), b_a) for shape, key in _SHAPES.items()}
    work = profile["inference"]
    return {
        **alphas,
        "a_s": alphas["a_s"] if w.attention == "eager" and not recomputed else 0.0,
        "a_i": _bytes(profile["checkpoint_input"], b_a),
        "g_c": int(w.resolved_checkpointing == "full"),
        "l_f": _bytes(profile["logits"]["forward"], b_a),
        "l_b": _bytes(profile["logits"]["backward"], b_a),
        "l_i": _bytes(profile["logits"]["inference"], b_a),
        "i_h": _bytes(work["h"], b_a),
        "i_f": _bytes(work["f"], b_a),
        "i_r": _bytes(work.get("routed", {}), b_a),
        "i_s": _bytes(work["scores"], b_a) if w.attention == "eager" else 0.0,
        # sdpa's math kernel works in FP32
        "i_p": 4.0 if w.attention == "math" and not recomputed else 0.0,
    }


def symbol_values(m: ModelSpec, w: Workload) -> dict[str, float]:
    """Every input of the memory model for ``m`` under ``w`` (``w.seq`` set), those derived
    from others (:data:`~gpumem._generated.formulas.DERIVED`) included."""
    _check_against_model(m, w)
    values = {**model_inputs(m), **_workload_inputs(w), **_shipped_inputs(m, w)}
    values.update(_activation_inputs(m, w, fx.b_a(b_d=values["b_d"], x_f=values["x_f"])))
    return evaluate(tuple(n for n in fx.ORDER[peak_formula(w)] if n in fx.DERIVED), values)


#: Formulas whose results are bytes held in memory: rounded up to whole bytes.
_WHOLE = frozenset({*fx.COMPONENTS, "runtime_overhead"})


def evaluate(names: tuple[str, ...], values: dict[str, object]) -> dict[str, object]:
    """Evaluate generated formulas in order, each result becoming an input of the next.

    The terms of the phases and the runtime overhead are rounded up to whole bytes (on
    numbers and NumPy arrays alike), so that a phase is the sum of its components.
    """
    values = dict(values)
    for name in names:
        function = getattr(fx, name)
        code = function.__code__
        result = function(**{k: values[k] for k in code.co_varnames[: code.co_argcount]})
        values[name] = -(-result // 1) if name in _WHOLE else result
    return values


def peak_formula(w: Workload) -> str:
    """The formula of the peak of ``w``: ``"training_peak"`` or ``"inference_peak"``."""
    return "training_peak" if w.training else "inference_peak"


def peak_values(values: dict[str, object], w: Workload) -> dict[str, object]:
    """Every formula of the peak of ``w`` and its runtime overhead, from the inputs ``values``
    (numbers or NumPy arrays). The total is ``M_tensors + runtime_overhead``."""
    peak = peak_formula(w)
    values = evaluate(fx.ORDER[peak], values)
    values.update(M_tensors=values[peak], C=w.cuda_context, rho=w.allocator_reserve)
    return evaluate(("runtime_overhead",), values)


def _live(values: dict[str, float], phase: str) -> dict[str, int]:
    """Bytes of each component live at the end of ``phase`` (zeros left out)."""
    live = {}
    for slot in fx.PHASES[phase][1]:
        term = max(slot, key=values.__getitem__)
        if values[term] > 0:
            live[fx.COMPONENTS[term]] = int(values[term])
    return live


def resolve_model(model: object) -> ModelSpec:
    """``model`` as a :class:`ModelSpec`: itself, or loaded from a catalog id or a path."""
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, (str, os.PathLike)):
        return load_model(model)
    raise InvalidValueError(
        "model",
        model,
        Text("a ModelSpec, a catalog id, or the path of a config.json or a model directory"),
    )


def resolve_workload(
    workload: Workload | None, settings: dict[str, object], spec: ModelSpec
) -> Workload:
    """``workload`` (or the default) with ``settings`` applied and the sequence length set."""
    if workload is not None and not isinstance(workload, Workload):
        raise InvalidValueError("workload", workload, Text("a Workload or None"))
    for key in settings:
        if key not in Workload._fields:
            raise UnknownNameError("setting", str(key), Workload._fields)
    work = workload.with_(**settings) if workload is not None else Workload(**settings)
    if work.seq is None:
        work = work.with_(seq=min(DEFAULT_SEQ, spec.max_context))
    return work


def formula_values(model: ModelSpec, workload: Workload) -> dict[str, float]:
    """Every input and every formula of the peak of ``workload`` (its ``seq`` set), e.g.
    ``formula_values(e.model, e.workload)["activations_training"]`` for an estimate ``e``."""
    return peak_values(symbol_values(model, workload), workload)


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
    spec = resolve_model(model)
    work = resolve_workload(workload, settings, spec)
    values = formula_values(spec, work)
    phases = {p: int(values[fx.PHASES[p][0]]) for p in fx.PEAKS[peak_formula(work)]}
    phase = max(phases, key=phases.__getitem__)
    components = _live(values, phase)
    overhead = int(values["runtime_overhead"])
    if work.cuda_context:
        components["cuda_context"] = work.cuda_context
    if overhead > work.cuda_context:
        components["allocator_reserve"] = overhead - work.cuda_context
    tensors = int(values["M_tensors"])
    return Estimate(
        spec,
        work,
        components,
        phase,
        phases if work.training else {},
        tensors,
        tensors + overhead,
        _kv_cache_layers(values),
        _pipeline_stage(values),
    )


def _pipeline_stage(values: dict[str, object]) -> dict[str, object]:
    """The heaviest pipeline stage (see ``Estimate``), or nothing without pipelining."""
    if values["N_pp"] <= 1:
        return {}
    first, last = values["stage_first_parameters"], values["stage_last_parameters"]
    return {
        "heaviest": "last" if last >= first else "first",
        "layers": int(values["L_s"]),
        "parameters": int(-(-values["P_s"] // 1)),
    }


#: The terms ``kv_cache`` sums, by the kind of layer they cache for.
_KV_CACHE_KINDS = ("full", "sliding", "chunked", "recurrent")


def _kv_cache_layers(values: dict[str, object]) -> dict[str, int]:
    """The KV cache's bytes by kind of layer, for the kinds the model has (see ``Estimate``):
    the terms of ``kv_cache`` that hold anything; full-attention layers that cache a latent
    (``c_kv > 0``) are called ``latent``."""
    if "kv_cache" not in values:
        return {}
    full = "latent" if values["c_kv"] else "full"
    terms = {kind: values[f"kv_cache_{kind}"] for kind in _KV_CACHE_KINDS}
    return {(full if k == "full" else k): math.ceil(x) for k, x in terms.items() if x > 0}


def gpu_count(workload: Workload) -> int:
    """GPUs of the workload's layout: data × tensor × pipeline parallel."""
    return fx.gpu_count(N_dp=workload.dp, N_tp=workload.tp, N_pp=workload.pp)


def rule_of_thumb_multiplier(mode: str) -> float:
    """The multiplier of the rule of thumb: 1.2 for inference, 2 for training."""
    if mode not in MODES:
        raise UnknownNameError("mode", str(mode), MODES)
    return fx.k_r(m_t=int(mode == "training"))


def rule_of_thumb(parameters: int, dtype: str, mode: str) -> int:
    """The popular shortcut: parameters × bytes × 1.2 for inference, × 2 for training.

    A baseline to compare against, never an estimate.
    """
    rule = fx.rule_of_thumb(
        P=parameters, b_w=bytes_per_value(dtype), k_r=rule_of_thumb_multiplier(mode)
    )
    return math.ceil(rule)
