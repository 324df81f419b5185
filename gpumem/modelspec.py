"""What the memory model needs to know about a network: :class:`ModelSpec`.

A spec is read from a Hugging Face ``config.json`` (see :func:`from_config`), from a model
directory (config plus safetensors headers), or from the built-in catalog.
"""

from __future__ import annotations

import re
from functools import cache

from ._record import Factory, Record
from .errors import ConfigError, InvalidValueError, Text, as_int, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Plausibility bounds, about a hundred times the largest published model's (DeepSeek-V3: 61
# layers, 7,168 wide, 129,280 tokens, 256 experts; Llama-3.1-405B: 126 layers, 53,248-wide MLP;
# Gemma 2: a 256,000-token vocabulary; Llama 4 Scout: a 10M-token context). A value beyond them is
# a typo or a hostile file: it is refused by name, never computed into an absurd total.
MAX_LAYERS = 10_000
"""Most layers (and largest layer index or period) accepted."""
MAX_WIDTH = 10**7
"""Largest hidden, MLP, head and latent width, and most attention heads, accepted."""
MAX_VOCAB = 10**9
"""Largest vocabulary accepted."""
MAX_EXPERTS = 10**6
"""Most experts per MoE layer accepted."""
MAX_CONTEXT = 2**40
"""Largest context window (``max_position_embeddings``) and sliding window accepted."""
MAX_PARAMETERS = 10**15
"""Most parameters accepted (a thousand times DeepSeek-V3's 671 billion)."""
PARAMS_FROM = ("config", "safetensors")
"""Where a model directory's parameter count may be taken from (``params_from``)."""
SSM_DTYPES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
"""A gated DeltaNet config's ``mamba_ssm_dtype`` and the format gpumem names it by."""


def check_params_from(value: object) -> None:
    """Refuse a ``params_from`` that is neither ``None`` nor one of :data:`PARAMS_FROM`."""
    if value is not None and value not in PARAMS_FROM:
        raise InvalidValueError(
            "params_from",
            value,
            Text("'config', 'safetensors' or None (safetensors when they agree)"),
        )


class ModelSpec(Record):
    """Architecture of a transformer, as far as memory is concerned.

    Sizes are counts (not bytes). MoE fields are zero for dense models, MLA fields are zero
    for models with ordinary multi-head / grouped-query attention.

    ``parameters`` counts every weight of the model class a checkpoint loads into: all experts,
    the LM head once if it is untied; for BERT the encoder with its pooler, without the
    pretraining heads. ``active_parameters`` leaves out the routed experts a token does not
    use (0 on input means "same as ``parameters``"). DeepSeek-V3's router score-correction
    bias, stored in its checkpoint, counts as a parameter. ``embedding_parameters`` counts the
    token, position and token-type embeddings plus an untied LM head, which is a second
    vocabulary matrix.
    """

    name: str
    family: str  # Hugging Face ``model_type``
    parameters: int  # total parameter count (all experts)
    n_layers: int
    hidden_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    intermediate_size: int  # MLP width of dense layers
    vocab_size: int
    max_context: int  # max_position_embeddings
    active_parameters: int = 0  # used per token; 0 means the same as ``parameters``
    embedding_parameters: int = 0  # token/position/type embeddings and an untied LM head
    gated_mlp: bool = True  # SwiGLU/GeGLU: gate, up and down projections
    causal: bool = True  # decoder (False: encoder such as BERT, no KV cache)
    tie_word_embeddings: bool = False
    # Mixture of experts
    n_experts: int = 0
    n_experts_active: int = 0
    moe_intermediate_size: int = 0
    n_shared_experts: int = 0  # shared experts, each of width shared_intermediate_size
    shared_intermediate_size: int = 0
    n_dense_layers: int = 0  # layers with a dense MLP in an MoE model (DeepSeek: the first k)
    # Multi-head latent attention (DeepSeek-V2/V3)
    kv_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    # Sliding-window attention: how many layers see only the last ``sliding_window`` tokens
    sliding_window: int = 0
    n_sliding_layers: int = 0
    # Chunked attention (Llama 4): layers that see only their own ``attention_chunk`` tokens
    attention_chunk: int = 0
    n_chunked_layers: int = 0
    # Recurrent layers (linear attention, state-space): a state of ``recurrent_state`` values per
    # layer and sequence that does not grow with the context, instead of keys and values
    n_recurrent_layers: int = 0
    recurrent_state: int = 0
    # Layers that cache nothing: the MLP blocks of Nemotron-H, which has no MLP in its other blocks
    n_mlp_layers: int = 0
    # Where the numbers came from
    source: str = ""
    parameters_source: str = "architecture"  # "architecture", "safetensors" or "catalog"
    checkpoint_dtype: str | None = None  # dtype stored in the checkpoint, when known
    extra: dict[str, object] = Factory(dict)
    # Where the reader found something legal but suspicious (a checkpoint far from the
    # architecture's count, a missing shard): one sentence each, for the user to see.
    warnings: tuple[Text, ...] = ()
    _hidden = ("extra", "warnings")  # left out of ==, hash and repr

    def __post_init__(self) -> None:
        for name in ("name", "family", "source", "parameters_source"):
            if not isinstance(getattr(self, name), str):
                raise InvalidValueError(name, getattr(self, name), Text("a string"))
        for name, (low, high) in _RANGES.items():
            _set_count(self, name, low, high)
        _set_count(self, "n_kv_heads", 1, self.n_heads)
        if self.n_heads % self.n_kv_heads:
            raise InvalidValueError(
                "n_kv_heads",
                self.n_kv_heads,
                Text("a divisor of the {heads} attention heads", heads=self.n_heads),
            )
        _set_count(self, "active_parameters", 0, self.parameters)
        _set_count(self, "n_experts_active", 0, self.n_experts)
        for name in _LAYER_COUNTS:
            _set_count(self, name, 0, self.n_layers)
        used = 0  # layers of the kinds that exclude each other
        for name in _LAYER_COUNTS[1:]:
            count = getattr(self, name)
            if used + count > self.n_layers:
                raise InvalidValueError(
                    name,
                    count,
                    Text(
                        "at most {free}: sliding, chunked, recurrent and MLP-only layers are "
                        "among the {layers} layers",
                        free=self.n_layers - used,
                        layers=self.n_layers,
                    ),
                )
            used += count
        if self.active_parameters == 0:
            object.__setattr__(self, "active_parameters", self.parameters)
        if not isinstance(self.warnings, tuple):
            raise InvalidValueError("warnings", self.warnings, Text("a tuple of messages"))

    @property
    def is_moe(self) -> bool:
        """Whether the MLP of (some) layers is a mixture of experts."""
        return self.n_experts > 0

    @property
    def uses_mla(self) -> bool:
        """Whether attention caches a compressed latent (MLA) instead of keys and values."""
        return self.kv_lora_rank > 0

    @property
    def layer_types(self) -> dict[str, int]:
        """How many layers of each kind of cache: ``full`` (keys and values of every token),
        ``sliding`` (the last ``sliding_window``), ``chunked`` (the current ``attention_chunk``),
        ``latent`` (MLA: one compressed latent per token) and ``recurrent`` (a fixed state).
        An encoder caches nothing: every count is 0."""
        if not self.causal:
            return dict.fromkeys(LAYER_TYPES, 0)
        attending = self.n_layers - self.n_recurrent_layers - self.n_mlp_layers
        unbounded = attending - self.n_sliding_layers - self.n_chunked_layers
        return {
            "full": 0 if self.uses_mla else unbounded,
            "sliding": self.n_sliding_layers,
            "chunked": self.n_chunked_layers,
            "latent": unbounded if self.uses_mla else 0,
            "recurrent": self.n_recurrent_layers,
        }


LAYER_TYPES = ("full", "sliding", "chunked", "latent", "recurrent")
"""The kinds of per-layer cache :attr:`ModelSpec.layer_types` counts."""


#: Accepted range of each count of a :class:`ModelSpec` (the bounds above); the counts bounded by
#: another field (KV heads by heads, active parameters by parameters…) are checked after these.
_RANGES: dict[str, tuple[int, int]] = {
    "parameters": (1, MAX_PARAMETERS),
    "n_layers": (1, MAX_LAYERS),
    "hidden_size": (1, MAX_WIDTH),
    "n_heads": (1, MAX_WIDTH),
    "head_dim": (1, MAX_WIDTH),
    "intermediate_size": (0, MAX_WIDTH),
    "vocab_size": (1, MAX_VOCAB),
    "max_context": (1, MAX_CONTEXT),
    "embedding_parameters": (0, MAX_PARAMETERS),
    "n_experts": (0, MAX_EXPERTS),
    "moe_intermediate_size": (0, MAX_WIDTH),
    "n_shared_experts": (0, MAX_EXPERTS),
    "shared_intermediate_size": (0, MAX_WIDTH),
    "kv_lora_rank": (0, MAX_WIDTH),
    "qk_rope_head_dim": (0, MAX_WIDTH),
    "sliding_window": (0, MAX_CONTEXT),
    "attention_chunk": (0, MAX_CONTEXT),
    "recurrent_state": (0, MAX_PARAMETERS),
}


#: Counts of layers of one kind, each at most the number of layers.
_LAYER_COUNTS = (
    "n_dense_layers",
    "n_sliding_layers",
    "n_chunked_layers",
    "n_recurrent_layers",
    "n_mlp_layers",
)


def _set_count(spec: ModelSpec, name: str, low: int, high: int) -> None:
    """Check that field ``name`` is a whole number in ``[low, high]``; store it as an ``int``
    (a NumPy integer is accepted as the number it is)."""
    value = getattr(spec, name)
    number = as_int(value)
    if number is None or not low <= number <= high:
        raise InvalidValueError(
            name, value, Text("an integer from {low} to {high}", low=low, high=high)
        )
    object.__setattr__(spec, name, number)


# --- Reading a Hugging Face ``config.json`` -------------------------------------------------


class _Family(Record):
    """How one Hugging Face ``model_type`` is built, as far as parameter counting goes."""

    norm: str = "rms"  # "rms": one weight of size h; "layer": weight and bias, 2h
    attention_bias: str = "config"  # "none", "qkv" (q, k, v only), "all", or "config": all
    #                         ("config_qkv": q, k, v) if the ``attention_bias`` key is true
    layer_norms: int = 2  # norms per layer (Gemma 2 has four)
    qk_norm: str = ""  # "head": RMSNorm over one head (Qwen3); "full": over all heads (OLMoE);
    #                    "config": "head" if the ``use_qk_norm`` key is true
    gated_mlp: bool = True
    mlp_bias: bool = False  # read from ``mlp_bias`` when the family has that key (Llama)
    tie_default: bool = False  # ``tie_word_embeddings`` when the key is absent
    moe: str = ""  # "", "all" (every layer), "qwen" (decoder_sparse_step), "deepseek", "llama4"
    shared_expert: bool = False  # Qwen2-MoE: one gated shared expert beside the routed ones
    mla: bool = False
    encoder: bool = False  # BERT: no causal mask, no LM head, token types and a pooler
    learned_positions: bool = False
    sliding: str = ""  # "", "all" (Mistral, Phi-3), "qwen" (use_sliding_window), "alternate",
    #                    "pattern": ``layer_types``, else every ``full_every``-th layer is full
    full_every: int = 0  # default of ``sliding_window_pattern`` for "pattern"
    sinks: bool = False  # gpt-oss: one learned attention-sink logit per head and layer
    expert_bias: bool = False  # gpt-oss: biases on the expert projections
    router_bias: bool = False  # a per-expert router bias in every MoE layer (GLM-4.5, gpt-oss)
    hybrid: bool = False  # Nemotron-H: Mamba-2, attention or MLP blocks (hybrid_override_pattern)
    linear_attention: bool = False  # Qwen3-Next, Qwen3.5: gated DeltaNet layers between full
    #                                 ones, whose query projection also yields an output gate
    #                                 (unless ``attn_output_gate`` is false)
    text: str = ""  # the family of the language model in ``text_config`` (Gemma 3, Qwen3.5,
    #                 Llama 4)
    vision: str = ""  # the vision tower the checkpoint holds beside it: "siglip" (Gemma 3),
    #                   "qwen" (Qwen3.5's ViT and patch merger); "" (Llama 4's is not counted)
    chunked: bool = False  # Llama 4: RoPE layers attend within chunks, NoPE layers to everything
    keys: tuple[tuple[str, str], ...] = ()  # our name -> the family's key, where it differs
    defaults: tuple[tuple[str, object], ...] = ()  # values of absent keys (the family's class)


_FAMILIES: dict[str, _Family] = {
    "bert": _Family(
        norm="layer", attention_bias="all", gated_mlp=False, encoder=True, learned_positions=True
    ),
    "deepseek_v2": _Family(mla=True, moe="deepseek"),
    "deepseek_v3": _Family(mla=True, moe="deepseek"),
    "gemma2": _Family(layer_norms=4, tie_default=True, sliding="alternate"),
    "gemma3": _Family(text="gemma3_text", vision="siglip"),
    "gemma3_text": _Family(
        layer_norms=4,
        qk_norm="head",
        tie_default=True,
        sliding="pattern",
        full_every=6,
        # transformers' Gemma3TextConfig, for the keys Google's configs leave out
        defaults=(
            ("num_attention_heads", 8),
            ("num_key_value_heads", 4),
            ("head_dim", 256),
            ("vocab_size", 262_208),
            ("max_position_embeddings", 131_072),
            ("sliding_window", 4096),
        ),
    ),
    "glm4_moe": _Family(
        attention_bias="config_qkv", qk_norm="config", moe="deepseek", router_bias=True
    ),
    "gpt_oss": _Family(
        attention_bias="all",
        moe="all",
        sliding="pattern",
        full_every=2,
        sinks=True,
        expert_bias=True,
        router_bias=True,
        keys=(("num_experts", "num_local_experts"),),
    ),
    "gpt2": _Family(
        norm="layer",
        attention_bias="all",
        gated_mlp=False,
        tie_default=True,
        learned_positions=True,
        keys=(
            ("num_hidden_layers", "n_layer"),
            ("hidden_size", "n_embd"),
            ("num_attention_heads", "n_head"),
            ("max_position_embeddings", "n_positions"),
            ("intermediate_size", "n_inner"),
        ),
    ),
    "kimi_k2": _Family(mla=True, moe="deepseek"),  # DeepSeek-V3's architecture, Moonshot's type
    "llama": _Family(mlp_bias=True),
    "llama4": _Family(text="llama4_text"),
    "llama4_text": _Family(
        moe="llama4",
        chunked=True,
        keys=(
            ("intermediate_size", "intermediate_size_mlp"),
            ("moe_intermediate_size", "intermediate_size"),
            ("num_experts", "num_local_experts"),
        ),
    ),
    "mistral": _Family(attention_bias="none", sliding="all"),
    "mixtral": _Family(
        attention_bias="none",
        moe="all",
        sliding="all",
        keys=(("num_experts", "num_local_experts"),),
    ),
    "nemotron_h": _Family(layer_norms=1, gated_mlp=False, hybrid=True),
    "olmoe": _Family(qk_norm="full", moe="all"),
    "phi3": _Family(attention_bias="none", sliding="all"),
    "qwen2": _Family(attention_bias="qkv", sliding="qwen"),
    "qwen2_moe": _Family(attention_bias="qkv", moe="qwen", shared_expert=True, sliding="qwen"),
    "qwen3": _Family(qk_norm="head", sliding="qwen"),
    "qwen3_moe": _Family(qk_norm="head", moe="qwen", sliding="qwen"),
    "qwen3_next": _Family(qk_norm="head", moe="qwen", shared_expert=True, linear_attention=True),
    "qwen3_5": _Family(text="qwen3_5_text", vision="qwen"),
    "qwen3_5_moe": _Family(text="qwen3_5_moe_text", vision="qwen"),
    "qwen3_5_text": _Family(qk_norm="head", linear_attention=True),
    "qwen3_5_moe_text": _Family(  # every layer's MLP is an MoE block with a shared expert
        qk_norm="head",
        moe="all",
        shared_expert=True,
        linear_attention=True,
        keys=(("intermediate_size", "moe_intermediate_size"),),
    ),
}

SUPPORTED_FAMILIES: tuple[str, ...] = tuple(sorted(_FAMILIES))
"""The Hugging Face ``model_type`` values :func:`from_config` understands."""


class _Reader:
    """Typed access to a config dict; every problem becomes a :class:`ConfigError`."""

    def __init__(self, config: dict[str, Any], family: _Family, where: str) -> None:
        self.config = config
        self.keys = dict(family.keys)
        self.defaults = dict(family.defaults)
        self.where = where

    def key(self, name: str) -> str:
        return self.keys.get(name, name)

    def error(self, problem: str) -> ConfigError:
        return ConfigError(self.where, problem)

    def raw(self, name: str, default: Any = None) -> Any:
        """The value as it is, or ``default`` when the key is absent."""
        return self.config.get(self.key(name), self.defaults.get(name, default))

    def integer(
        self,
        name: str,
        default: int | None = None,
        *,
        minimum: int = 1,
        maximum: int = MAX_WIDTH,
    ) -> int:
        """A whole number in ``[minimum, maximum]``; absent or ``null`` gives ``default``
        (None: the key is required)."""
        key = self.key(name)
        value = self.config.get(key)
        if value is None:
            value = self.defaults.get(name)
        if value is None:
            if default is None:
                raise self.error(
                    Text(
                        "missing key {key!r} (model_type {type!r})",
                        key=key,
                        type=shown(self.config.get("model_type")),
                    )
                )
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise self.error(
                Text(
                    "key {key!r} is {value!r}; expected an integer from {minimum} to {maximum}",
                    key=key,
                    value=shown(value),
                    minimum=minimum,
                    maximum=maximum,
                )
            )
        return value

    def flag(self, name: str, default: bool) -> bool:
        """A boolean; absent or ``null`` gives ``default``."""
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(
                Text(
                    "key {key!r} is {value!r}; expected true or false",
                    key=self.key(name),
                    value=shown(value),
                )
            )
        return value


def from_config(config: dict[str, Any], *, name: str, source: str = "") -> ModelSpec:
    """Build a :class:`ModelSpec` from the contents of a Hugging Face ``config.json``.

    Parameters
    ----------
    config
        The parsed JSON. No code from the model repository is run.
    name
        Display name of the model.
    source
        Where the config came from (path or URL); used in error messages and kept in the spec.

    Raises
    ------
    ConfigError
        Unsupported ``model_type``, a missing key or a value of the wrong type or range.
    """
    where = source or name
    if not isinstance(config, dict):
        raise ConfigError(
            where, Text("expected a JSON object, got {type}", type=type(config).__name__)
        )
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or model_type not in _FAMILIES:
        supported = ", ".join(SUPPORTED_FAMILIES)
        if model_type is None:
            problem = Text("no 'model_type' key; supported: {supported}", supported=supported)
        else:
            problem = Text(
                "model_type {type!r} is not supported; supported: {supported}",
                type=shown(model_type),
                supported=supported,
            )
        raise ConfigError(where, problem)
    family = _FAMILIES[model_type]
    quantization = _quantization(config, where)
    vision = vision_linear = blocks = 0
    tower = None
    if family.text:
        text = _text_config(config, where, family.text)
        if family.vision:
            vision, vision_linear, blocks = _VISION_TOWERS[family.vision](config, text, where)
        if family.vision == "qwen":
            tower = _qwen_tower_shape(config, where)
        config, family = text, _FAMILIES[family.text]
    read = _Reader(config, family, where)
    shape = _shape(read, family)
    total, active, embedding = _count(shape, family)
    if vision:
        total, active = total + vision, active + vision
        shape["extra"]["vision_parameters"] = vision
    if vision_linear:
        shape["extra"]["vision_linear_parameters"] = vision_linear
    if tower:
        shape["extra"]["vision_tower"] = tower
    if quantization is not None:
        if family.hybrid and quantization["method"] == "modelopt":
            quantization["format"] = None  # Nemotron-H's Mamba-2 projections: not counted
        shape["extra"]["quantization"] = _placed(
            quantization, _module_counts(shape, blocks, family)
        )
    if total > MAX_PARAMETERS:
        raise read.error(
            Text(
                "the configuration describes {n:.3g} parameters; at most {limit:.0e} are accepted",
                n=float(total),
                limit=float(MAX_PARAMETERS),
            )
        )
    return ModelSpec(
        name=name,
        family=model_type,
        parameters=total,
        active_parameters=active,
        embedding_parameters=embedding,
        n_layers=shape["layers"],
        hidden_size=shape["h"],
        n_heads=shape["heads"],
        n_kv_heads=shape["kv_heads"],
        head_dim=shape["head_dim"],
        intermediate_size=shape["inter"],
        vocab_size=shape["vocab"],
        max_context=shape["max_context"],
        gated_mlp=family.gated_mlp,
        causal=not family.encoder,
        tie_word_embeddings=shape["tied"],
        n_experts=shape["experts"],
        n_experts_active=shape["experts_active"],
        moe_intermediate_size=shape["moe_inter"],
        n_shared_experts=shape["shared"],
        shared_intermediate_size=shape["shared_inter"],
        n_dense_layers=shape["layers"] - shape["moe_layers"] if shape["experts"] else 0,
        kv_lora_rank=shape["kv_lora_rank"],
        qk_rope_head_dim=shape["qk_rope"],
        sliding_window=shape["window"] if shape["sliding_layers"] else 0,
        n_sliding_layers=shape["sliding_layers"],
        attention_chunk=shape["chunk"] if shape["chunked_layers"] else 0,
        n_chunked_layers=shape["chunked_layers"],
        n_recurrent_layers=shape["recurrent_layers"],
        n_mlp_layers=shape["mlp_only"],
        recurrent_state=shape["recurrent_state"],
        source=source,
        extra=shape["extra"],
    )


#: The modules whose weight matrices a checkpoint may ship quantized: a layer's ``attention``
#: (the projections of a full-attention layer), ``dense`` (a dense MLP), ``experts`` (routed),
#: ``shared`` (shared experts), a gated DeltaNet layer's ``recurrent_in`` (its query, key,
#: value and output-gate projection), ``recurrent_gates`` (its beta and decay projection) and
#: ``recurrent_out`` (its output projection), the untied ``lm_head`` and the linear layers of
#: the ``vision`` tower.
QUANTIZABLE = (
    "attention",
    "dense",
    "experts",
    "shared",
    "recurrent_in",
    "recurrent_gates",
    "recurrent_out",
    "lm_head",
    "vision",
)
_LINEAR = tuple(m for m in QUANTIZABLE if m != "lm_head")
#: The key of each module of :data:`QUANTIZABLE` in the names of its flags (``q_a`` … ``q_v``
#: of the checkpoint's quantized format, ``q_a2`` … of its second: gpumem.symbolic.inputs).
SHIPPED_KEYS = dict(zip(QUANTIZABLE, "amesrbohv", strict=True))
#: The quantized formats of Hugging Face checkpoints gpumem can count: their format in
#: ``data/precisions.json`` and the modules they quantize unless excluded. transformers' MXFP4
#: integration replaces gpt-oss's expert modules only; its fine-grained FP8 replaces every
#: linear layer (DeepSeek-V3's router is no linear layer, and gpumem keeps routers in the
#: dtype), and vLLM's Fp8Config leaves the LM head (a ParallelLMHead) unquantized.
SHIPPED_FORMATS = {
    "mxfp4": ("mxfp4", ("experts",)),
    "fp8": ("fp8_block128", _LINEAR),
}
#: NVIDIA ModelOpt checkpoints (``quant_method`` modelopt) by their ``quant_algo``: vLLM's
#: ModelOpt methods quantize every linear layer and expert module a checkpoint does not
#: exclude, and from vLLM 0.24.0 its LM head (``get_quant_method`` in
#: vllm/model_executor/layers/quantization/modelopt.py; 0.22.0 quantized linear layers only).
#: NVFP4 stores groups of 16 FP4 values with one FP8 scale (``group_size`` 16), FP8 one FP8
#: value a weight with a scale a tensor.
MODELOPT_FORMATS = {"NVFP4": ("nvfp4", QUANTIZABLE), "FP8": ("fp8_e4m3", QUANTIZABLE)}
#: The per-layer ``quant_algo`` of a ModelOpt MIXED_PRECISION checkpoint's ``quantized_layers``
#: gpumem counts, by their format: NVFP4 and W4A16_NVFP4 (NVFP4 weights with 16-bit
#: activations) store the same bytes, FP8 one value a weight with a scale a tensor
#: (``ModelOptMixedPrecisionConfig.get_quant_method`` in
#: vllm/model_executor/layers/quantization/modelopt.py, W4A16_NVFP4 from 0.21.0).
MIXED_FORMATS = {"NVFP4": "nvfp4", "W4A16_NVFP4": "nvfp4", "FP8": "fp8_e4m3"}
NVFP4_GROUP = 16
"""The only NVFP4 ``group_size`` gpumem counts (one FP8 scale per 16 values)."""


def _in_layers(*names: str) -> tuple[str, ...]:
    """``names`` inside a layer of a language model, alone or nested in a multimodal one."""
    return tuple(f"{root}layers.#.{n}" for n in names for root in _ROOTS)


_ROOTS = ("model.", "model.language_model.")
_EXPERT_NAMES = ("gate_proj", "up_proj", "down_proj")
#: Module names standing for each module of :data:`QUANTIZABLE` (``#``: the index of a layer or
#: of a vision block): its parts, each a tuple of the spellings it has in checkpoints. A module
#: is excluded where an exclusion pattern covers every part, in every layer (or block) that has
#: it (vLLM refuses a fused projection whose parts differ).
MODULE_PARTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "attention": tuple(_in_layers(f"self_attn.{x}_proj") for x in "qkvo"),
    "dense": tuple(_in_layers(f"mlp.{x}") for x in _EXPERT_NAMES),
    "experts": tuple(_in_layers(f"mlp.experts.0.{x}") for x in _EXPERT_NAMES),
    "shared": tuple(
        _in_layers(f"mlp.shared_expert.{x}", f"mlp.shared_experts.{x}") for x in _EXPERT_NAMES
    ),
    "recurrent_in": tuple(
        _in_layers(f"linear_attn.in_proj_{x}", "linear_attn.in_proj_qkvz") for x in ("qkv", "z")
    ),
    "recurrent_gates": tuple(
        _in_layers(f"linear_attn.in_proj_{x}", "linear_attn.in_proj_ba") for x in "ab"
    ),
    "recurrent_out": (_in_layers("linear_attn.out_proj"),),
    "lm_head": (("lm_head",),),
    "vision": (
        *((f"model.visual.blocks.#.{n}",) for n in ("attn.qkv", "attn.proj")),
        *((f"model.visual.blocks.#.mlp.linear_fc{n}",) for n in (1, 2)),
        *((f"model.visual.merger.linear_fc{n}",) for n in (1, 2)),
    ),
}
#: Modules that stay in the dtype however a checkpoint is quantized, or that gpumem does not
#: count (the multi-token-prediction module): an exclusion pattern naming them changes nothing.
UNQUANTIZED: tuple[str, ...] = (
    *(f"{root}{n}" for root in _ROOTS for n in ("embed_tokens", "norm")),
    *_in_layers(
        "input_layernorm",
        "post_attention_layernorm",
        "self_attn.q_norm",
        "self_attn.k_norm",
        "linear_attn.conv1d",
        "linear_attn.norm",
        "linear_attn.A_log",
        "linear_attn.dt_bias",
        "mlp.gate",
        "mlp.router",
        "mlp.shared_expert_gate",
    ),
    "model.visual.patch_embed.proj",
    "model.visual.pos_embed",
    "model.visual.blocks.#.norm1",
    "model.visual.blocks.#.norm2",
    "model.visual.merger.norm",
    "mtp.fc",
    "mtp.norm",
    "mtp.layers.#.self_attn.q_proj",
    "mtp.layers.#.mlp.gate_proj",
)
#: Modules an exclusion may name that hold nothing gpumem counts: the multi-token-prediction
#: module, which gpumem does not count, and two modules vLLM does not build for the models
#: gpumem reads: Qwen3-VL's extra patch mergers (gpumem refuses a tower that has them) and a
#: ``qkv_proj`` in a vision block (vLLM's Qwen3-VL blocks fuse theirs as ``attn.qkv``,
#: vllm/model_executor/models/qwen2_5_vl.py ``Qwen2_5_VisionAttention``). Spelled as vLLM
#: names modules; a pattern naming one of them, or a module inside it, excludes nothing.
NOTHING_COUNTED = ("mtp", "visual.deepstack_merger_list", "visual.blocks.#.attn.qkv_proj")
#: How vLLM renames the modules of a Qwen3-VL-style checkpoint (Qwen3.5, Qwen3.8), and the
#: entries of an FP8 checkpoint's exclusion list before it matches them (``hf_to_vllm_mapper``
#: of ``Qwen3VLForConditionalGeneration`` in vllm/model_executor/models/qwen3_vl.py, which
#: ``Fp8Config.apply_vllm_mapper`` applies to the list; 0.19 to 0.27.1).
VLLM_PREFIXES = {
    "model.visual.": "visual.",
    "lm_head.": "language_model.lm_head.",
    "model.language_model.": "language_model.model.",
}
#: A layer's or vision block's index in an exclusion pattern (``model.layers.12.mlp``).
_INDEX = re.compile(r"(?:^|\.)(?:layers|blocks)\.([0-9]+)\.")


def _quantization(config: dict[str, Any], where: str) -> dict[str, Any] | None:
    """What a config's ``quantization_config`` says of the weights as shipped: its
    ``method``, the ``format`` gpumem counts them in (None when it cannot), the modules it
    quantizes unless excluded (``quantized``) and its exclusion ``patterns``
    (``modules_to_not_convert``; ModelOpt's ``ignore``, or ``exclude_modules`` under
    ``quantization`` as in its hf_quant_config.json)."""
    if config.get("quantization_config") is None:
        return None
    q = _json_object(config, "quantization_config", where)
    method = q.get("quant_method")
    if not isinstance(method, str):
        raise ConfigError(
            where,
            Text("key 'quant_method' is {value!r}; expected a string", value=shown(method)),
        )
    key, patterns = "modules_to_not_convert", q.get("modules_to_not_convert")
    fmt, quantized = SHIPPED_FORMATS.get(method, (None, ()))
    if method == "fp8" and (
        q.get("weight_block_size", [128, 128]) != [128, 128] or q.get("fmt", "e4m3") != "e4m3"
    ):
        fmt = None  # other blocks or element formats than DeepSeek-V3's and Qwen3's
    layers = None
    if method == "modelopt":
        fmt, quantized, key, patterns, layers = _modelopt(q, where)
    patterns = [] if patterns is None else patterns
    if not isinstance(patterns, list) or not all(isinstance(m, str) for m in patterns):
        raise ConfigError(
            where,
            Text(
                "key {key!r} is {value!r}; expected a list of strings",
                key=key,
                value=shown(patterns),
            ),
        )
    shipped = {"method": method, "format": fmt, "quantized": quantized, "patterns": patterns}
    return shipped if layers is None else {**shipped, "layers": layers}


def _modelopt(
    q: dict[str, Any], where: str
) -> tuple[str | None, tuple[str, ...], str, Any, dict[str, str] | None]:
    """A ModelOpt ``quantization_config``: its format, the modules it quantizes unless
    excluded, the key and value of its exclusion patterns, and for MIXED_PRECISION the
    ``quant_algo`` of each module of its ``quantized_layers`` (else None). vLLM reads it in
    either shape (ModelOptQuantConfigBase.from_config): ``quant_algo`` and ``ignore`` beside
    ``quant_method``, or ``quant_algo`` and ``exclude_modules`` in a ``quantization`` object,
    ``quantized_layers`` beside them (ModelOptMixedPrecisionConfig._from_config)."""
    key = "ignore"
    if "quantization" in q:
        q, key = _json_object(q, "quantization", where), "exclude_modules"
    algorithm = q.get("quant_algo")
    fmt, quantized, layers = None, (), None
    if isinstance(algorithm, str):
        fmt, quantized = MODELOPT_FORMATS.get(algorithm.upper(), (None, ()))
    group = q.get("group_size", NVFP4_GROUP)
    if isinstance(algorithm, str) and algorithm.upper() == "MIXED_PRECISION":
        layers, group = _quantized_layers(q, where)
        fmt = "mixed" if layers else None
    if fmt in ("nvfp4", "mixed") and (isinstance(group, bool) or group != NVFP4_GROUP):
        fmt = None
    return fmt, quantized, key, q.get(key), layers


def _quantized_layers(q: dict[str, Any], where: str) -> tuple[dict[str, str], Any]:
    """A MIXED_PRECISION config's ``quantized_layers``: each module's ``quant_algo`` (upper
    case), and the NVFP4 group size vLLM takes: the config's ``group_size``, else that of its
    first NVFP4 or W4A16_NVFP4 entry (16 if none gives one)."""
    entries = q.get("quantized_layers", {})
    if not isinstance(entries, dict) or not all(
        isinstance(e, dict) and isinstance(e.get("quant_algo"), str) for e in entries.values()
    ):
        raise ConfigError(
            where,
            Text(
                "key 'quantized_layers' is {value!r}; expected a JSON object of objects with "
                "a 'quant_algo' string",
                value=shown(entries),
            ),
        )
    layers = {name: e["quant_algo"].upper() for name, e in entries.items()}
    nvfp4 = [e for e in entries.values() if MIXED_FORMATS.get(e["quant_algo"].upper()) == "nvfp4"]
    group = q.get("group_size", nvfp4[0].get("group_size", NVFP4_GROUP)) if nvfp4 else None
    return layers, NVFP4_GROUP if group is None else group


def _placed(shipped: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    """The weights as shipped: the modules of ``shipped["quantized"]`` the model has and its
    patterns do not exclude, and the ``unplaced`` patterns: those naming nothing gpumem
    knows, and those that exclude a module in some of its ``counts`` layers (or vision
    blocks) only, or some of its parts only (``model.layers.3.mlp``, ``q_proj``).

    An FP8 checkpoint's patterns are matched as vLLM's ``Fp8Config`` matches them: a pattern
    excludes the linear layer it names exactly, in the checkpoint's spelling or vLLM's
    (``is_layer_skipped`` in vllm/model_executor/layers/quantization/utils/quant_utils.py).
    One naming a module that holds linear layers excludes none of them; it is placed only
    where other patterns exclude all that it holds. Other methods' patterns match by
    substring or wildcard (:func:`_matches`)."""
    exact = shipped["method"] == "fp8"
    match = _same if exact else _matches
    covered: dict[tuple[str, int], set[int] | None] = {}  # (module, part): indices, None: all
    touching: dict[str, list[str]] = {}
    unplaced, holders = [], []
    for pattern in shipped["patterns"]:
        index, form = _indexed(pattern)
        hits = [
            (module, i)
            for module, parts in MODULE_PARTS.items()
            for i, names in enumerate(parts)
            if any(match(form, name) for name in names)
        ]
        if pattern and not hits:
            if any(match(form, n) for n in UNQUANTIZED) or _counts_nothing(form):
                continue
            held = _held(form) if exact else None
            if held is not None:
                holders.append((pattern, held))
                continue
        if not pattern or not hits:
            unplaced.append(pattern)
            continue
        for module, i in hits:
            if pattern not in touching.setdefault(module, []):
                touching[module].append(pattern)
            whole = index is None or "#" not in MODULE_PARTS[module][i][0]
            seen = covered.get((module, i), set())
            covered[module, i] = None if whole or seen is None else seen | {index}
    kept = set()
    for module, patterns in touching.items():
        states = [covered.get((module, i), set()) for i in range(len(MODULE_PARTS[module]))]
        n = counts.get(module, 0)
        limit = n if module == "vision" else counts["layers"]  # indices that exist
        if all(s is None or len({i for i in s if i < limit}) >= n for s in states):
            kept.add(module)
        elif n:  # excluded in some layers or some parts only
            unplaced += [p for p in patterns if p not in unplaced]
    unplaced += [p for p, held in holders if any(counts.get(m) and m not in kept for m in held)]
    if shipped["format"] == "mixed":
        return {
            "method": shipped["method"],
            **_mixed(shipped["layers"], kept, counts),
            "unplaced": unplaced,
        }
    quantized = [m for m in shipped["quantized"] if m not in kept and counts.get(m, 0)]
    return {
        "method": shipped["method"],
        "format": shipped["format"],
        "quantized": quantized if shipped["format"] else [],
        "unplaced": unplaced,
    }


#: Where a routed expert's modules sit in a layer: ModelOpt names them all at once
#: (``mlp.experts``) or one by one under it (``mlp.experts.0.gate_proj``).
_EXPERTS = _in_layers("mlp.experts")


def _mixed(layers: dict[str, str], kept: set[str], counts: dict[str, int]) -> dict[str, Any]:
    """The weights of a MIXED_PRECISION checkpoint as vLLM loads them
    (``ModelOptMixedPrecisionConfig._resolve_quant_algo``): a module is in the format its
    ``quantized_layers`` entry gives (a part of a fused projection by its own name, the routed
    experts by ``mlp.experts`` or a name under it), unquantized where it has none or where
    the exclusion patterns keep it (``kept``). ``format`` and ``quantized``, then
    ``second_format`` and ``second_quantized``, are the formats in the order of
    :data:`MIXED_FORMATS` and the modules in each; ``unresolved`` names (``#`` for the layer) the
    modules that are not in one format in all the layers and parts that hold them, or in one
    gpumem does not count, and the entries naming a module gpumem does not count apart."""
    seen: dict[tuple[str, int], dict[int | None, set[str | None]]] = {}
    named: dict[str, list[str]] = {}  # module: the entries naming it, "#" for the layer
    unresolved = []
    for name, algorithm in layers.items():
        index, form = _indexed(name)
        fmt = MIXED_FORMATS.get(algorithm)
        under = _vllm(form).startswith(tuple(_vllm(n) + "." for n in _EXPERTS))
        hits = [
            (module, i)
            for module, parts in MODULE_PARTS.items()
            for i, names in enumerate(parts)
            if any(_same(form, n) for n in names)
        ]
        if any(_same(form, n) for n in _EXPERTS) or under:
            hits = [("experts", i) for i in range(len(MODULE_PARTS["experts"]))]
        if not _counts_nothing(form) and (fmt is None or not hits):
            unresolved.append(form)
        for module, i in hits:
            seen.setdefault((module, i), {}).setdefault(index, set()).add(fmt)
            named.setdefault(module, []).append(form)
    formats: dict[str, str] = {}
    for module, parts in MODULE_PARTS.items():
        n = counts.get(module, 0)
        if not n or module in kept:
            continue
        states: set[str | None] = set()
        for i, names in enumerate(parts):
            found = seen.get((module, i), {})
            states |= {f for held in found.values() for f in held}
            states |= {None} if len(found) < (n if "#" in names[0] else 1) else set()
        if len(states) > 1:
            unresolved += named[module]
        elif states != {None}:
            formats[module] = states.pop()
    order = [f for f in dict.fromkeys(MIXED_FORMATS.values()) if f in formats.values()]
    order += [None, None]
    return {
        "format": order[0],
        "quantized": [m for m, f in formats.items() if f == order[0]],
        "second_format": order[1],
        "second_quantized": [m for m, f in formats.items() if f == order[1]],
        "unresolved": list(dict.fromkeys(unresolved)),
    }


def _indexed(pattern: str) -> tuple[int | None, str]:
    """The layer or block index a pattern names (None if none) and the pattern with ``#`` in
    its place, as the names of :data:`MODULE_PARTS` hold it."""
    found = _INDEX.search(pattern)
    if found is None:
        return None, pattern
    return int(found[1]), pattern[: found.start(1)] + "#" + pattern[found.end(1) :]


def _matches(pattern: str, name: str) -> bool:
    """Whether an exclusion pattern covers module ``name``: as a substring (vLLM's ModelOpt
    and transformers' rule), or as a wildcard pattern (``*`` any run, ``?`` one character)
    matching the name or one of its parents (``model.layers.*.self_attn``)."""
    if pattern in name:
        return True
    wildcard = _wildcard(pattern)
    parts = name.split(".")
    return any(wildcard.fullmatch(".".join(parts[:n])) for n in range(1, len(parts) + 1))


def _vllm(name: str) -> str:
    """A module name as vLLM spells it (:data:`VLLM_PREFIXES`)."""
    for prefix, renamed in VLLM_PREFIXES.items():
        if name.startswith(prefix):
            return renamed + name[len(prefix) :]
    return name


def _same(pattern: str, name: str) -> bool:
    """Whether an FP8 exclusion pattern names module ``name``: the same name once both are
    spelled as vLLM spells them."""
    return _vllm(pattern) == _vllm(name)


def _counts_nothing(pattern: str) -> bool:
    """Whether a pattern names a module of :data:`NOTHING_COUNTED` or one inside it."""
    name = _vllm(pattern)
    return any(name == n or name.startswith(n + ".") for n in NOTHING_COUNTED)


def _held(pattern: str) -> set[str] | None:
    """The modules of :data:`MODULE_PARTS` with a part inside the module a pattern names (None
    if it names no module that holds one gpumem knows)."""
    inside = _vllm(pattern + ".")
    known = [name for parts in MODULE_PARTS.values() for names in parts for name in names]
    if not any(_vllm(n).startswith(inside) for n in (*known, *UNQUANTIZED)):
        return None
    return {
        module
        for module, parts in MODULE_PARTS.items()
        if any(_vllm(n).startswith(inside) for names in parts for n in names)
    }


@cache
def _wildcard(pattern: str) -> re.Pattern[str]:
    """``pattern`` as a regular expression: ``*`` any run of characters, ``?`` one."""
    return re.compile("".join(_WILDCARDS.get(c, re.escape(c)) for c in pattern))


_WILDCARDS = {"*": ".*", "?": "."}


def _module_counts(s: dict[str, Any], blocks: int, family: _Family) -> dict[str, int]:
    """How many layers hold each module of :data:`QUANTIZABLE` (vision blocks for ``vision``;
    1 for an untied LM head), and how many ``layers`` there are."""
    layers, moe, recurrent = s["layers"], s["moe_layers"], s["recurrent_layers"]
    delta_net = recurrent if family.linear_attention else 0
    counts = dict.fromkeys(("recurrent_in", "recurrent_gates", "recurrent_out"), delta_net)
    return {
        "layers": layers,
        "attention": layers - recurrent - s["mlp_only"],
        "dense": s["mlp_only"] or layers - moe,
        "experts": moe,
        "shared": moe if s["shared"] else 0,
        **counts,
        "lm_head": int(not s["tied"]),
        "vision": blocks,
    }


def final_norm_parameters(spec: ModelSpec) -> int:
    """Parameters of the norm after the last layer: ``h`` for an RMSNorm, ``2h`` (weight and
    bias) for a LayerNorm (GPT-2; BERT's embedding LayerNorm)."""
    family = _FAMILIES.get(spec.family, _Family())
    return spec.hidden_size * (2 if family.norm == "layer" else 1)


def _vit_layer(h: int, inner: int) -> int:
    """Parameters of one vision-transformer block: q, k, v and output projections with biases,
    an MLP ``h -> inner -> h`` with biases and two LayerNorms."""
    return 4 * (h * h + h) + 2 * h * inner + inner + h + 4 * h


def _siglip_tower(config: dict[str, Any], text: dict[str, Any], where: str) -> tuple[int, int, int]:
    """Gemma 3's SigLIP vision tower with the projection into the language model (``text``):
    its parameters (its linear layers are not told apart: 0, 0)."""
    tower = _json_object(config, "vision_config", where)
    read = _Reader(tower, _Family(defaults=_SIGLIP), where)
    if read.flag("vision_use_head", False):
        raise read.error(Text("key 'vision_use_head' is true; not supported"))
    h, inner_width = read.integer("hidden_size"), read.integer("intermediate_size")
    layers = read.integer("num_hidden_layers", maximum=MAX_LAYERS)
    patch, image = read.integer("patch_size"), read.integer("image_size")
    patches = (image // patch) ** 2
    embed = read.integer("num_channels") * patch * patch * h + h + patches * h
    text_width = _Reader(text, _FAMILIES["gemma3_text"], where).integer("hidden_size")
    projector = h * text_width + h  # projection and its RMSNorm
    return embed + layers * _vit_layer(h, inner_width) + 2 * h + projector, 0, 0


def _qwen_tower(config: dict[str, Any], text: dict[str, Any], where: str) -> tuple[int, int, int]:
    """Qwen3.5's vision tower: a patch embedding over ``temporal_patch_size`` frames, learned
    positions, ``depth`` blocks and the patch merger (a LayerNorm and an MLP from
    ``spatial_merge_size``² patches to the language model's ``out_hidden_size``): its
    parameters, those of its linear layers' weight matrices, and its blocks."""
    tower = _json_object(config, "vision_config", where)
    read = _Reader(tower, _Family(defaults=_QWEN_VISION), where)
    stacked = read.raw("deepstack_visual_indexes", [])
    if stacked != []:  # Qwen3-VL's extra mergers, which Qwen3.5 does not build
        raise read.error(
            Text(
                "key 'deepstack_visual_indexes' is {value!r}; only an empty list is supported",
                value=shown(stacked),
            )
        )
    h, inner_width = read.integer("hidden_size"), read.integer("intermediate_size")
    layers = read.integer("depth", maximum=MAX_LAYERS)
    patch, frames = read.integer("patch_size"), read.integer("temporal_patch_size")
    embed = read.integer("in_channels") * frames * patch * patch * h + h
    embed += read.integer("num_position_embeddings", maximum=MAX_CONTEXT) * h
    merged = h * read.integer("spatial_merge_size") ** 2
    out = read.integer("out_hidden_size")
    merger = 2 * h + merged * merged + merged + merged * out + out
    # the weight matrices of each block's attention and MLP, and of the merger's MLP
    linear = layers * (4 * h * h + 2 * h * inner_width) + merged * merged + merged * out
    return embed + layers * _vit_layer(h, inner_width) + merger, linear, layers


def _qwen_tower_shape(config: dict[str, Any], where: str) -> dict[str, int]:
    """The sizes of Qwen3.5's vision tower that its working set depends on (what vLLM's
    profiling run holds for it): widths, heads and the patch geometry."""
    read = _Reader(
        _json_object(config, "vision_config", where), _Family(defaults=_QWEN_VISION), where
    )
    keys = ("hidden_size", "intermediate_size", "num_heads", "in_channels", "patch_size")
    keys += ("temporal_patch_size", "spatial_merge_size")
    return {key: read.integer(key) for key in keys}


def _json_object(config: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """``config[key]``, which must be a JSON object."""
    value = config.get(key)
    if not isinstance(value, dict):
        raise ConfigError(
            where,
            Text("key {key!r} is {value!r}; expected a JSON object", key=key, value=shown(value)),
        )
    return value


def _text_config(config: dict[str, Any], where: str, model_type: str) -> dict[str, Any]:
    """The language model's config nested in a multimodal one (its ``text_config``)."""
    text = _json_object(config, "text_config", where)
    inner = text.get("model_type", model_type)
    if inner != model_type:
        raise ConfigError(
            where,
            Text(
                "text_config model_type {type!r} is not supported; supported: {supported}",
                type=shown(inner),
                supported=model_type,
            ),
        )
    text = {**text, "model_type": model_type}
    if "tie_word_embeddings" in config:  # the multimodal model's own key, if the text has none
        text.setdefault("tie_word_embeddings", config["tie_word_embeddings"])
    return text


#: transformers' SiglipVisionConfig, for the keys a config leaves out
_SIGLIP: tuple[tuple[str, object], ...] = (("num_channels", 3),)
#: transformers' Qwen3_5VisionConfig, for the keys a config leaves out
_QWEN_VISION: tuple[tuple[str, object], ...] = (
    ("depth", 27),
    ("hidden_size", 1152),
    ("intermediate_size", 4304),
    ("in_channels", 3),
    ("patch_size", 16),
    ("temporal_patch_size", 2),
    ("spatial_merge_size", 2),
    ("out_hidden_size", 3584),
    ("num_position_embeddings", 2304),
    ("num_heads", 16),
)
#: How the vision tower of each ``_Family.vision`` is counted.
_VISION_TOWERS = {"siglip": _siglip_tower, "qwen": _qwen_tower}


def _shape(read: _Reader, family: _Family) -> dict[str, Any]:
    """The sizes the count needs, read and checked once."""
    h = read.integer("hidden_size")
    layers = read.integer("num_hidden_layers", maximum=MAX_LAYERS)
    heads = read.integer("num_attention_heads")
    kv_heads = read.integer("num_key_value_heads", heads, maximum=heads)
    if heads % kv_heads:
        raise read.error(
            Text(
                "{heads} attention heads are not a multiple of {kv_heads} KV heads",
                heads=heads,
                kv_heads=kv_heads,
            )
        )
    s: dict[str, Any] = {
        "h": h,
        "layers": layers,
        "heads": heads,
        "kv_heads": kv_heads,
        "vocab": read.integer("vocab_size", maximum=MAX_VOCAB),
        "max_context": read.integer("max_position_embeddings", maximum=MAX_CONTEXT),
        "tied": not family.encoder and read.flag("tie_word_embeddings", family.tie_default),
        "inter": read.integer("intermediate_size", None if family.gated_mlp else 4 * h),
        "mlp_bias": family.mlp_bias and read.flag("mlp_bias", False),
        "experts": 0,
        "experts_active": 0,
        "moe_inter": 0,
        "shared": 0,
        "shared_inter": 0,
        "moe_layers": 0,
        "kv_lora_rank": 0,
        "qk_rope": 0,
        "extra": {},
    }
    if family.mla:
        _read_mla(read, s)
    else:
        given = read.raw("head_dim") is not None
        s["head_dim"] = read.integer("head_dim") if given else _even_split(read, h, heads)
    bias = family.attention_bias
    if bias.startswith("config"):
        on = read.flag("attention_bias", False)
        bias = ("qkv" if bias == "config_qkv" else "all") if on else "none"
    s["attention_bias"] = bias
    s["qk_norm"] = family.qk_norm
    if family.qk_norm == "config":
        s["qk_norm"] = "head" if read.flag("use_qk_norm", False) else ""
    if family.encoder:
        s["type_vocab"] = read.integer("type_vocab_size", minimum=0, maximum=MAX_VOCAB)
        kind = read.raw("position_embedding_type", "absolute")
        if kind != "absolute":
            raise read.error(
                Text(
                    "key 'position_embedding_type' is {kind!r}; only 'absolute' is supported",
                    kind=shown(kind),
                )
            )
    if family.moe:
        _read_moe(read, family, s)
    s["window"], s["sliding_layers"] = _sliding(read, family, layers)
    s["chunk"], s["chunked_layers"] = _chunked(read, family, layers)
    s["recurrent_layers"], s["recurrent_state"] = 0, 0
    s["mlp_only"] = 0  # blocks that hold only an MLP (Nemotron-H)
    if family.linear_attention:
        _read_linear_attention(read, s)
    if family.hybrid:
        _read_hybrid(read, s)
    # the multi-token-prediction module's layers (Qwen3-Next, Qwen3.5: mtp_num_hidden_layers;
    # DeepSeek-V3: num_nextn_predict_layers), which vLLM loads as a speculative drafter
    for key in ("mtp_num_hidden_layers", "num_nextn_predict_layers"):
        if mtp := read.integer(key, 0, minimum=0, maximum=MAX_LAYERS):
            s["extra"]["mtp_layers"] = mtp
    return s


def _layer_types(read: _Reader, layers: int, other: str) -> dict[str, int] | None:
    """How many layers of each kind the ``layer_types`` list names (None when absent); a kind
    other than ``full_attention`` and ``other`` is refused."""
    kinds = read.raw("layer_types")
    if kinds is None:
        return None
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise read.error(
            Text("key 'layer_types' is {value!r}; expected a list of strings", value=shown(kinds))
        )
    _one_per_layer(read, "layer_types", kinds, layers)
    unknown = set(kinds) - {other, "full_attention"}
    if unknown:
        raise read.error(
            Text(
                "key 'layer_types' names {kinds}; expected {other!r} or 'full_attention'",
                kinds=", ".join(sorted(unknown)),
                other=other,
            )
        )
    return {kind: kinds.count(kind) for kind in (other, "full_attention")}


def _one_per_layer(read: _Reader, key: str, items: list[Any], layers: int) -> None:
    """Refuse a per-layer list of another length than the number of layers."""
    n = len(items)
    if n != layers:
        raise read.error(
            Text("key {key!r} has {n} entries for {layers} layers", key=key, n=n, layers=layers)
        )


def _chunked(read: _Reader, family: _Family, layers: int) -> tuple[int, int]:
    """(chunk, number of layers attending within chunks); Llama 4 chunks its RoPE layers and
    leaves every ``no_rope_layer_interval``-th layer (NoPE) to attend to the whole context."""
    if not family.chunked:
        return 0, 0
    chunk = read.integer("attention_chunk_size", 0, minimum=0, maximum=MAX_CONTEXT)
    if chunk == 0:
        return 0, 0
    kinds = _layer_types(read, layers, "chunked_attention")
    if kinds is not None:
        return chunk, kinds["chunked_attention"]
    rope = read.raw("no_rope_layers", [])
    if not isinstance(rope, list) or not all(type(i) is int and i in (0, 1) for i in rope):
        raise read.error(
            Text(
                "key 'no_rope_layers' is {value!r}; expected a list of 0 and 1",
                value=shown(rope),
            )
        )
    if rope:
        _one_per_layer(read, "no_rope_layers", rope, layers)
        return chunk, rope.count(1)
    every = read.integer("no_rope_layer_interval", 4, maximum=MAX_LAYERS)
    return chunk, layers - layers // every


def _read_hybrid(read: _Reader, s: dict[str, Any]) -> None:
    """Nemotron-H's blocks, one letter each in ``hybrid_override_pattern``: ``M`` a Mamba-2
    mixer (a fixed state), ``*`` attention, ``-`` an MLP (no cache); their Mamba-2 sizes."""
    pattern = read.raw("hybrid_override_pattern")
    if not isinstance(pattern, str) or set(pattern) - set("M*-"):
        raise read.error(
            Text(
                "key 'hybrid_override_pattern' is {value!r}; expected a string of M, * and -",
                value=shown(pattern),
            )
        )
    _one_per_layer(read, "hybrid_override_pattern", pattern, s["layers"])
    heads, head_dim = read.integer("mamba_num_heads"), read.integer("mamba_head_dim")
    groups, state = read.integer("n_groups"), read.integer("ssm_state_size")
    kernel = read.integer("conv_kernel", 4)
    inner = heads * head_dim
    conv = inner + 2 * groups * state  # channels of the convolution: x, B and C
    bias = read.flag("use_bias", False)
    s["recurrent_layers"], s["mlp_only"] = pattern.count("M"), pattern.count("-")
    s["recurrent_state"] = heads * head_dim * state + (kernel - 1) * conv
    s["extra"]["recurrent_temporal_state"] = heads * head_dim * state
    s["extra"]["recurrent_conv_channels"] = conv
    s["linear"] = (
        s["h"] * (inner + conv + heads)
        + (inner + conv + heads if bias else 0)  # in_proj
        + conv * kernel
        + (conv if read.flag("use_conv_bias", True) else 0)  # depthwise conv
        + 3 * heads  # dt_bias, A_log, D
        + inner  # gated RMSNorm
        + inner * s["h"]
        + (s["h"] if bias else 0)  # out_proj
    )


def _read_linear_attention(read: _Reader, s: dict[str, Any]) -> None:
    """Qwen3-Next's and Qwen3.5's gated DeltaNet layers: how many, their sizes and the state
    each keeps; whether the full layers' query projection also yields an output gate."""
    layers = s["layers"]
    kinds = _layer_types(read, layers, "linear_attention")
    if kinds is None:  # every ``full_attention_interval``-th layer is full
        every = read.integer("full_attention_interval", 4, maximum=MAX_LAYERS)
        recurrent = layers - layers // every
    else:
        recurrent = kinds["linear_attention"]
    k_heads, v_heads = read.integer("linear_num_key_heads"), read.integer("linear_num_value_heads")
    k_dim, v_dim = read.integer("linear_key_head_dim"), read.integer("linear_value_head_dim")
    kernel = read.integer("linear_conv_kernel_dim", 4)
    keys, values = k_heads * k_dim, v_heads * v_dim
    conv = 2 * keys + values  # channels of the short convolution: queries, keys, values
    s["recurrent_layers"] = recurrent
    s["output_gate"] = read.flag("attn_output_gate", True)
    if s["output_gate"]:
        s["extra"]["attention_output_gate"] = True
    ssm = read.raw("mamba_ssm_dtype")
    if ssm is not None and not (isinstance(ssm, str) and ssm in SSM_DTYPES):
        raise read.error(
            Text(
                "key 'mamba_ssm_dtype' is {value!r}; expected 'float32', 'bfloat16' or 'float16'",
                value=shown(ssm),
            )
        )
    # per sequence: the (v_dim x k_dim) state of each value head, and the convolution's window
    temporal = v_heads * k_dim * v_dim
    s["recurrent_state"] = temporal + (kernel - 1) * conv
    # the part vLLM keeps in the config's mamba_ssm_dtype (Qwen3.5: float32), where it names one
    s["extra"]["recurrent_temporal_state"] = temporal
    s["extra"]["recurrent_conv_channels"] = conv
    # the shapes of the gated delta rule, whose chunked form works in them at prefill
    s["extra"]["recurrent_value_heads"] = v_heads
    s["extra"]["recurrent_key_dim"], s["extra"]["recurrent_value_dim"] = k_dim, v_dim
    # the sizes llama.cpp's GGUF names ssm.group_count, time_step_rank, state_size, conv_kernel
    s["extra"]["linear_attention"] = {
        "key_heads": k_heads, "value_heads": v_heads, "key_head_dim": k_dim,
        "value_head_dim": v_dim, "conv_kernel": kernel,
    }  # fmt: skip
    if ssm is not None:
        s["extra"]["recurrent_state_dtype"] = SSM_DTYPES[ssm]
    s["linear"] = (
        s["h"] * (2 * keys + 2 * values)  # in_proj_qkvz: queries, keys, values, output gate z
        + s["h"] * 2 * v_heads  # in_proj_ba: beta and the decay's input a
        + conv * kernel  # depthwise convolution, no bias
        + 2 * v_heads  # dt_bias, A_log
        + v_dim  # gated RMSNorm over one value head
        + values * s["h"]  # out_proj
    )


def _even_split(read: _Reader, h: int, heads: int) -> int:
    if h % heads:
        raise read.error(
            Text(
                "hidden size {h} is not a multiple of {heads} heads and no head_dim",
                h=h,
                heads=heads,
            )
        )
    return h // heads


def _read_mla(read: _Reader, s: dict[str, Any]) -> None:
    """Multi-head latent attention (DeepSeek-V2/V3)."""
    if read.flag("attention_bias", False):
        raise read.error(Text("key 'attention_bias' is true; not supported with latent attention"))
    nope = read.integer("qk_nope_head_dim")
    s["qk_rope"] = read.integer("qk_rope_head_dim")
    s["head_dim"] = nope + s["qk_rope"]
    s["kv_lora_rank"] = read.integer("kv_lora_rank")
    s["extra"] = {
        "q_lora_rank": read.integer("q_lora_rank", 0, minimum=0),
        "qk_nope_head_dim": nope,
        "v_head_dim": read.integer("v_head_dim"),
    }


def _read_moe(read: _Reader, family: _Family, s: dict[str, Any]) -> None:
    """Experts, shared experts and how many layers have them (counted, never enumerated: a
    config may declare any number of layers)."""
    layers = s["layers"]
    if family.moe == "deepseek":
        s["experts"] = read.integer("n_routed_experts", maximum=MAX_EXPERTS)
        s["moe_inter"] = read.integer("moe_intermediate_size")
        s["shared"] = read.integer("n_shared_experts", 0, minimum=0, maximum=MAX_EXPERTS)
        s["shared_inter"] = s["moe_inter"] if s["shared"] else 0
        first_dense = read.integer("first_k_dense_replace", 0, minimum=0, maximum=MAX_LAYERS)
        every = read.integer("moe_layer_freq", 1, maximum=MAX_LAYERS)
        # layers i >= first_dense with i % every == 0
        moe = _multiples(every, layers - 1) - _multiples(every, min(first_dense, layers) - 1)
        s["extra"]["router_bias"] = (
            family.router_bias or read.raw("topk_method", "greedy") == "noaux_tc"
        )
    elif family.moe == "qwen":
        s["experts"] = read.integer("num_experts", maximum=MAX_EXPERTS)
        s["moe_inter"] = read.integer("moe_intermediate_size")
        every = read.integer("decoder_sparse_step", 1, maximum=MAX_LAYERS)
        dense = read.raw("mlp_only_layers", [])
        if not isinstance(dense, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in dense
        ):
            raise read.error(
                Text(
                    "key 'mlp_only_layers' is {value!r}; expected a list of integers",
                    value=shown(dense),
                )
            )
        # layers i with (i + 1) % every == 0, except those listed as dense
        listed = {i for i in dense if 0 <= i < layers and (i + 1) % every == 0}
        moe = _multiples(every, layers) - 1 - len(listed)
    elif family.moe == "llama4":  # a shared expert as wide as the routed ones
        s["experts"] = read.integer("num_experts", maximum=MAX_EXPERTS)
        s["moe_inter"] = s["shared_inter"] = read.integer("moe_intermediate_size")
        s["shared"] = 1
        every = read.integer("interleave_moe_layer_step", 1, maximum=MAX_LAYERS)
        moe = layers // every  # layers every-1, 2·every-1, …
    else:
        s["experts"] = read.integer("num_experts", maximum=MAX_EXPERTS)
        s["moe_inter"] = s["inter"]
        s["extra"]["router_bias"] = family.router_bias
        moe = layers
    if family.shared_expert:  # Qwen2-MoE, Qwen3-Next, Qwen3.5: one gated shared expert
        s["shared"], s["shared_inter"] = 1, read.integer("shared_expert_intermediate_size")
    s["experts_active"] = read.integer("num_experts_per_tok", maximum=MAX_EXPERTS)
    if s["experts_active"] > s["experts"]:
        raise read.error(
            Text(
                "num_experts_per_tok {active} exceeds the {experts} experts",
                active=s["experts_active"],
                experts=s["experts"],
            )
        )
    s["moe_layers"] = moe


def _multiples(every: int, last: int) -> int:
    """How many of 0, 1, …, ``last`` are multiples of ``every`` (none when ``last`` < 0)."""
    return last // every + 1 if last >= 0 else 0


def _sliding(read: _Reader, family: _Family, layers: int) -> tuple[int, int]:
    """(window, number of layers that use it); ``(0, 0)`` without sliding-window attention."""
    if not family.sliding:
        return 0, 0
    window = read.integer("sliding_window", 0, minimum=0, maximum=MAX_CONTEXT)
    if window == 0:
        return 0, 0
    if family.sliding == "alternate":  # Gemma 2: layers 0, 2, 4, … are local
        return window, (layers + 1) // 2
    if family.sliding == "pattern":  # as listed, else every full_every-th layer is full
        kinds = _layer_types(read, layers, "sliding_attention")
        if kinds is None:
            every = read.integer("sliding_window_pattern", family.full_every, maximum=MAX_LAYERS)
            return window, layers - layers // every
        return window, kinds["sliding_attention"]
    if family.sliding == "qwen":  # layers from max_window_layers on, if enabled at all
        if not read.flag("use_sliding_window", False):
            return 0, 0
        first = read.integer("max_window_layers", layers, minimum=0, maximum=MAX_LAYERS)
        return window, max(0, layers - first)
    return window, layers


def _count(s: dict[str, Any], family: _Family) -> tuple[int, int, int]:
    """(total, active per token, embedding) parameters of the model described by ``s``."""
    h, layers = s["h"], s["layers"]
    norm = h if family.norm == "rms" else 2 * h
    embedding = s["vocab"] * h * (1 if s["tied"] or family.encoder else 2)
    if family.learned_positions:
        embedding += s["max_context"] * h + s.get("type_vocab", 0) * h
    other = norm  # final norm; for BERT, the embedding LayerNorm instead
    if family.encoder:
        other += h * h + h  # pooler
    recurrent = s["recurrent_layers"]
    attending = layers - recurrent - s["mlp_only"]
    attention = attending * _attention(s, family) + recurrent * s.get("linear", 0)
    mlps = s["mlp_only"] if family.hybrid else layers  # Nemotron-H: only its MLP blocks
    plain_bias = not family.gated_mlp and not family.hybrid  # GPT-2, BERT
    mlp_dense = _mlp(h, s["inter"], family.gated_mlp, s["mlp_bias"] or plain_bias)
    moe_layers = s["moe_layers"]
    total = embedding + other + layers * family.layer_norms * norm + attention
    total += (mlps - moe_layers) * mlp_dense
    active = total
    if moe_layers:
        expert = _mlp(h, s["moe_inter"], True, family.expert_bias)
        shared = s["shared"] * _mlp(h, s["shared_inter"], True, False)
        router = h * s["experts"]
        if family.shared_expert:
            router += h  # shared_expert_gate
        if s["extra"].get("router_bias"):
            router += s["experts"]  # e_score_correction_bias
        total += moe_layers * (s["experts"] * expert + shared + router)
        active = total - moe_layers * (s["experts"] - s["experts_active"]) * expert
    return total, active, embedding


def _attention(s: dict[str, Any], family: _Family) -> int:
    """Parameters of one attention block (projections, biases, q/k norms)."""
    h, heads = s["h"], s["heads"]
    if family.mla:
        x = s["extra"]
        q_out = heads * s["head_dim"]
        rank = x["q_lora_rank"]
        q = h * rank + rank + rank * q_out if rank else h * q_out
        kv = (
            h * (s["kv_lora_rank"] + s["qk_rope"])
            + s["kv_lora_rank"]
            + s["kv_lora_rank"] * heads * (x["qk_nope_head_dim"] + x["v_head_dim"])
        )
        return q + kv + heads * x["v_head_dim"] * h
    q_out = heads * s["head_dim"]
    kv_out = s["kv_heads"] * s["head_dim"]
    gate = q_out if s.get("output_gate") else 0  # the query projection's second half
    weights = 2 * h * q_out + h * gate + 2 * h * kv_out
    bias = {"none": 0, "qkv": q_out + 2 * kv_out, "all": q_out + 2 * kv_out + h}
    qk_norm = {"": 0, "head": 2 * s["head_dim"], "full": q_out + kv_out}
    sinks = heads if family.sinks else 0
    return weights + bias[s["attention_bias"]] + qk_norm[s["qk_norm"]] + sinks


def _mlp(h: int, inter: int, gated: bool, bias: bool) -> int:
    """Parameters of one MLP of width ``inter``: gate/up/down, or up/down for a plain MLP."""
    if gated:
        return 3 * h * inter + (2 * inter + h if bias else 0)
    return 2 * h * inter + (inter + h if bias else 0)
