"""What is being run: :class:`Workload` — mode, precision, batch, sequence, optimizer,
parallelism and overheads — validated once, with errors that name the bad value."""

from __future__ import annotations

import numbers
from functools import cache

from . import _data
from ._record import Record
from .errors import ConfigError, InvalidValueError, Text, UnknownNameError, as_int
from .precision import get_format

MODES = ("inference", "training")
PRECISIONS = ("mixed", "pure", "amp")
CHECKPOINTING = ("none", "full", "selective")
ATTENTION = ("flash", "eager", "math")
LOGITS = ("last", "all")
#: Fields that apply to training only.
TRAINING_ONLY = (
    *("precision", "optimizer", "optimizer_impl", "checkpointing"),
    *("lora_rank", "lora_targets", "adapter_dtype", "lora_dropout"),
)
#: LoRA on every linear layer but the LM head (peft's ``target_modules="all-linear"``).
ALL_LINEAR = "all-linear"
#: Modules LoRA can be restricted to, by peft's names for them (Llama-style models).
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
OPTIMIZER_IMPLS = ("foreach", "fused")
TRAINING_DTYPES = ("fp32", "fp16", "bf16")
#: The quantised base LoRA is modelled on: QLoRA, NF4 through bitsandbytes, computing in BF16.
QLORA_DTYPE = "nf4"
#: Adapter dtypes: peft's FP32 (``autocast_adapter_dtype``) or the base's own 16-bit dtype.
ADAPTER_DTYPES = ("fp32", "bf16", "fp16")

#: Sequence length when none is given (capped by the model's context window).
DEFAULT_SEQ = 2048
#: The memory a process holds outside the caching allocator (CUDA context, libraries' handles,
#: kernels loaded lazily), the same default for PyTorch and llama.cpp. It grows with what runs:
#: on one H200 (CUDA 13.0, PyTorch 2.11; data/cuda_measurements.json) 527 MiB after
#: initialisation, 595 MiB after the first matrix products, up to 801 MiB once models ran;
#: pass the figure of your stack as ``cuda_context`` where it matters.
DEFAULT_CUDA_CONTEXT = 512 * 2**20
#: Caching-allocator reserve above live tensors (block rounding, fragmentation).
DEFAULT_ALLOCATOR_RESERVE = 0.05
#: Largest count (batch, sequence, parallel sizes, LoRA rank) and CUDA context in bytes
#: accepted: 2**53, beyond which a float no longer holds every integer.
MAX_COUNT = 2**53


class Optimizer(Record):
    """An optimizer as far as memory goes (see ``data/optimizers.json``)."""

    name: str
    label: str
    states_per_param: int
    factored: bool
    state_bytes: float | None  # None: follows the training precision
    source: str


@cache
def _optimizers() -> dict[str, Optimizer]:
    path = "data/optimizers.json"
    raw = _data.load_json(_data.path("optimizers.json"))
    table: dict[str, Optimizer] = {}
    for row in raw["optimizers"]:
        if not row.get("source") or row["id"] in table:
            raise ConfigError(path, f"optimizer {row['id']!r} lacks a source or is duplicated")
        fixed = row["state_bytes"]
        table[row["id"]] = Optimizer(
            row["id"],
            row["label"],
            row["states_per_param"],
            row["factored"],
            None if fixed == "training" else float(fixed),
            row["source"],
        )
    return table


def optimizer_names() -> list[str]:
    """Identifiers of the known optimizers."""
    return list(_optimizers())


def get_optimizer(name: str) -> Optimizer:
    """The optimizer called ``name`` (case-insensitive)."""
    try:
        return _optimizers()[str(name).lower()]
    except KeyError:
        raise UnknownNameError("optimizer", str(name), _optimizers()) from None


class Workload(Record):
    """Everything about a run except the model.

    Every field is checked when the workload is made. Counts (``batch``, ``seq``, ``dp``,
    ``tp``, ``pp``, ``lora_rank``, ``cuda_context``) are whole numbers — ``int`` or NumPy
    integers, stored as ``int`` — from 1 (0 for ``cuda_context``) to 2**53 (``MAX_COUNT``);
    ``zero`` is a whole number 0 to 3; ``allocator_reserve`` is a real number in [0, 1), not
    NaN; names are strings. A field that does not apply to the mode is refused, in both
    modes: training takes no ``kv_dtype``, ``new_tokens`` or ``logits``; inference takes no
    ``precision``, ``optimizer``, ``optimizer_impl``, ``checkpointing``, ``lora_rank`` or
    ZeRO stage. Errors are :class:`~gpumem.errors.InvalidValueError` naming the field, the
    value and what is accepted, or :class:`~gpumem.errors.UnknownNameError` for an unknown
    name.

    Parameters
    ----------
    mode
        ``"inference"`` (prompt processing with a KV cache) or ``"training"`` (one step).
    dtype
        Weight format for inference (any of :func:`gpumem.precision.format_names`); compute
        format for training (``fp32``, ``fp16`` or ``bf16``).
    kv_dtype
        KV-cache format; by default the activation format.
    batch, seq
        Sequences per GPU per step and tokens per sequence (prompt plus generated tokens, or
        the prompt alone when ``new_tokens`` is given). ``seq`` defaults to 2,048 tokens, or
        the model's context window if that is shorter.
    new_tokens
        Inference only: tokens generated one at a time after a prompt of ``seq`` tokens; the
        peak is then the larger of the prompt's forward pass and the last decoding step (the
        KV cache holding ``seq + new_tokens`` tokens, the logits of the last position).
    precision
        Training only. ``"mixed"``: weights and gradients in ``dtype`` plus an FP32 master copy
        and FP32 optimizer states (Megatron/DeepSpeed; 16 bytes per parameter with Adam).
        ``"pure"``: everything in ``dtype``. ``"amp"``: FP32 weights, gradients and states with
        ``torch.autocast`` computing in ``dtype``. Default: mixed, or pure for FP32.
    optimizer, optimizer_impl
        Training only: see :func:`optimizer_names`; ``"foreach"`` (PyTorch's default on CUDA,
        one parameter-sized temporary) or ``"fused"`` (none).
    checkpointing
        Training only: ``"none"``, ``"full"`` (keep each layer's input, recompute the rest) or
        ``"selective"`` (recompute the attention scores only).
    attention
        ``"flash"`` (fused kernel, no score matrix), ``"eager"`` (materialises the scores) or
        ``"math"`` (sdpa's math kernel: FP32 scores and probabilities, FP32 copies of
        half-precision inputs; in training it saves the FP32 probabilities, the scaled query
        and the keys and values repeated to every query head; what PyTorch runs when no fused
        kernel takes the shapes, e.g. on the CPU value heads narrower than the query heads, on
        CUDA grouped KV heads in FP32).
    logits
        Inference only: keep logits of the ``"last"`` position or of ``"all"`` positions.
    lora_rank
        Train LoRA adapters of this rank; the base stays frozen in ``dtype``. With ``nf4``
        this is QLoRA: the linear layers of the transformer layers stored in NF4 by
        bitsandbytes (blocks of 64 with double-quantised absmax), everything else and the
        computation in BF16. Other quantised formats are refused.
    lora_targets
        With ``lora_rank``: the modules adapted, in peft's names: ``"all-linear"`` (every
        linear layer but the LM head, the default) or a comma-separated list of
        ``LORA_TARGETS`` such as ``"q_proj,v_proj"``.
    weights_as_shipped
        Inference only: count the weights as the checkpoint ships them, the modules its
        ``quantization_config`` quantizes (gpt-oss's MXFP4 experts; the FP8 linear layers of
        DeepSeek-V3 and Qwen3-FP8) in that format, scales included, and the rest in
        ``dtype``, which must be a floating-point format. Off by default: every weight is in
        ``dtype``.
    adapter_dtype
        With ``lora_rank``: the adapters' dtype, ``"fp32"`` (peft's default,
        ``autocast_adapter_dtype=True``) or the base's 16-bit dtype (``bf16`` for QLoRA),
        which peft keeps with ``autocast_adapter_dtype=False``.
    lora_dropout
        With ``lora_rank``: the dropout probability on the adapters' inputs, from 0 up to
        (not including) 1; above 0 each adapted module saves a dropout mask and output.
    dp, tp, pp, zero
        Data-, tensor- and pipeline-parallel sizes and the ZeRO stage (3 = FSDP full shard).
        With ``pp`` stages each GPU holds its stage's ⌈L / pp⌉ layers; the first stage also
        holds the embeddings, the last the final norm and the LM head (a copy of the
        embedding matrix when tied), and the estimate is for the heavier of the two.
    fsdp
        Training only: PyTorch FSDP2 (``fully_shard`` on each block and on the root) over the
        ``dp`` GPUs, with ``zero`` 2 (``reshard_after_forward=False``) or 3 (``True``); the
        weights are sharded at rest in both. Precision ``mixed`` is its
        ``MixedPrecisionPolicy``: FP32 sharded weights and gradients, BF16 or FP16 gathered
        copies, FP32 reduction. Full training with ``tp`` = ``pp`` = 1 only.
    cuda_context, allocator_reserve
        Runtime overhead: bytes outside the allocator, and the reserve as a fraction of tensor
        memory. Set both to 0 to get tensor memory alone.
    """

    mode: str = "inference"
    dtype: str = "bf16"
    kv_dtype: str | None = None
    batch: int = 1
    seq: int | None = None
    new_tokens: int | None = None
    precision: str | None = None
    optimizer: str | None = None
    optimizer_impl: str | None = None
    checkpointing: str | None = None
    attention: str = "flash"
    logits: str | None = None
    lora_rank: int | None = None
    lora_targets: str | None = None
    weights_as_shipped: bool = False
    adapter_dtype: str | None = None
    lora_dropout: float | None = None
    dp: int = 1
    tp: int = 1
    pp: int = 1
    zero: int = 0
    fsdp: bool = False
    cuda_context: int = DEFAULT_CUDA_CONTEXT
    allocator_reserve: float = DEFAULT_ALLOCATOR_RESERVE

    def __post_init__(self) -> None:
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str) and (value is not None or name in _REQUIRED_TEXT):
                raise InvalidValueError(name, value, Text("a string"))
        _choice("mode", self.mode, MODES)
        get_format(self.dtype)
        if self.kv_dtype is not None:
            get_format(self.kv_dtype)
        for name in ("batch", "dp", "tp", "pp"):
            self._count(name, 1)
        for name in ("seq", "new_tokens", "lora_rank"):
            if getattr(self, name) is not None:
                self._count(name, 1)
        self._count("cuda_context", 0, Text("bytes, an integer from 0 to {high}", high=MAX_COUNT))
        zero = as_int(self.zero)
        if zero not in (0, 1, 2, 3):
            raise InvalidValueError("zero", self.zero, Text("a ZeRO stage 0, 1, 2 or 3"))
        object.__setattr__(self, "zero", zero)
        if not isinstance(self.fsdp, bool):
            raise InvalidValueError("fsdp", self.fsdp, Text("True or False"))
        _choice("attention", self.attention, ATTENTION)
        self._fraction("allocator_reserve")
        if not isinstance(self.weights_as_shipped, bool):
            raise InvalidValueError(
                "weights_as_shipped", self.weights_as_shipped, Text("true or false")
            )
        if self.weights_as_shipped:
            self._check_shipped()
        if self.mode == "training":
            self._check_training()
        else:
            self._check_inference()

    def _count(self, name: str, low: int, accepted: Text | None = None) -> None:
        """Check that field ``name`` is a whole number in ``[low, MAX_COUNT]`` (``accepted``
        says so; by default for ``low`` = 1); store it as an ``int``."""
        value = getattr(self, name)
        number = as_int(value)
        if number is None or not low <= number <= MAX_COUNT:
            if accepted is None:
                accepted = Text("a positive integer up to {high}", high=MAX_COUNT)
            raise InvalidValueError(name, value, accepted)
        object.__setattr__(self, name, number)

    def _fraction(self, name: str) -> None:
        """Check that field ``name`` is a real number in [0, 1) (not NaN); store a float."""
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
            raise InvalidValueError(name, value, Text("a number from 0 up to (not including) 1"))
        object.__setattr__(self, name, float(value))

    def _check_training(self) -> None:
        base_is_training_dtype = get_format(self.dtype).name in TRAINING_DTYPES
        if self.lora_rank is None and not base_is_training_dtype:
            raise InvalidValueError(
                "dtype",
                self.dtype,
                Text(
                    "one of {dtypes} for training (a quantised base needs lora_rank: QLoRA)",
                    dtypes=", ".join(TRAINING_DTYPES),
                ),
            )
        if self.precision is not None:
            _choice("precision", self.precision, PRECISIONS)
            if self.precision != "pure" and get_format(self.dtype).name == "fp32":
                raise InvalidValueError(
                    "precision",
                    self.precision,
                    Text("'pure' with dtype fp32 (mixed and amp need a 16-bit dtype)"),
                )
        if self.optimizer is not None:
            get_optimizer(self.optimizer)
        if self.optimizer_impl is not None:
            _choice("optimizer_impl", self.optimizer_impl, OPTIMIZER_IMPLS)
        if self.checkpointing is not None:
            _choice("checkpointing", self.checkpointing, CHECKPOINTING)
        self._check_lora()
        if self.fsdp:
            self._check_fsdp()
        if self.logits is not None:
            raise InvalidValueError(
                "logits", self.logits, Text("nothing in training (all are kept)")
            )
        for name in ("kv_dtype", "new_tokens"):
            if getattr(self, name) is not None:
                raise InvalidValueError(
                    name, getattr(self, name), Text("nothing in training (there is no KV cache)")
                )

    def _check_inference(self) -> None:
        for name in TRAINING_ONLY:
            if getattr(self, name) is not None:
                raise InvalidValueError(
                    name, getattr(self, name), Text("nothing: it applies to training")
                )
        if self.zero:
            raise InvalidValueError(
                "zero", self.zero, Text("0 for inference (ZeRO shards training state)")
            )
        if self.fsdp:
            raise InvalidValueError(
                "fsdp", self.fsdp, Text("False for inference (FSDP2 is modelled for training)")
            )
        if self.logits is not None:
            _choice("logits", self.logits, LOGITS)

    def _check_shipped(self) -> None:
        if self.mode == "training":
            raise InvalidValueError(
                "weights_as_shipped",
                True,
                Text("false in training (the shipped quantized weights are not trained)"),
            )
        if get_format(self.dtype).kind != "float":
            raise InvalidValueError(
                "dtype",
                self.dtype,
                Text(
                    "a floating-point format with weights_as_shipped: it is the format of the "
                    "weights the checkpoint ships unquantized"
                ),
            )

    def _check_fsdp(self) -> None:
        """FSDP2 as modelled: full training sharded over ``dp`` alone, at stage 2 or 3."""
        if self.zero not in (2, 3):
            raise InvalidValueError(
                "zero",
                self.zero,
                Text(
                    "2 or 3 with fsdp (reshard_after_forward False or True): fully_shard "
                    "always shards weights, gradients and optimizer states"
                ),
            )
        if self.precision == "amp":
            raise InvalidValueError(
                "precision",
                self.precision,
                Text("mixed (FSDP2's MixedPrecisionPolicy) or pure with fsdp"),
            )
        if self.lora_rank is not None:
            raise InvalidValueError(
                "lora_rank", self.lora_rank, Text("nothing with fsdp (full training only)")
            )
        for name in ("tp", "pp"):
            if getattr(self, name) != 1:
                raise InvalidValueError(
                    name, getattr(self, name), Text("1 with fsdp (data parallelism only)")
                )

    def _check_lora(self) -> None:
        for name in ("lora_targets", "adapter_dtype", "lora_dropout"):
            if self.lora_rank is None and getattr(self, name) is not None:
                raise InvalidValueError(
                    name, getattr(self, name), Text("nothing without lora_rank")
                )
        if self.lora_rank is None:
            return
        base = get_format(self.dtype).name
        if base not in (*TRAINING_DTYPES, QLORA_DTYPE):
            raise InvalidValueError(
                "dtype",
                self.dtype,
                Text(
                    "one of {dtypes} for LoRA, or {qlora} for QLoRA (bitsandbytes)",
                    dtypes=", ".join(TRAINING_DTYPES),
                    qlora=QLORA_DTYPE,
                ),
            )
        if self.adapter_dtype is not None:
            _choice("adapter_dtype", self.adapter_dtype, ADAPTER_DTYPES)
            compute = self.compute_dtype
            if self.adapter_dtype not in ("fp32", compute):
                raise InvalidValueError(
                    "adapter_dtype",
                    self.adapter_dtype,
                    Text(
                        "fp32 or the base's dtype {dtype}: peft keeps adapters in FP32 or, "
                        "without autocast_adapter_dtype, in the base layer's dtype",
                        dtype=compute,
                    ),
                )
        if self.lora_dropout is not None:
            self._fraction("lora_dropout")
        if self.lora_targets is not None:
            self._check_lora_targets()

    def _check_lora_targets(self) -> None:
        if self.lora_targets == ALL_LINEAR:
            return
        names = self.lora_targets.split(",")
        for name in names:
            _choice("lora_targets", name, (ALL_LINEAR, *LORA_TARGETS))
        if ALL_LINEAR in names or len(set(names)) < len(names):
            raise InvalidValueError(
                "lora_targets",
                self.lora_targets,
                Text("'all-linear' or a comma-separated list of module names, each once"),
            )

    # Resolved settings: what the defaults stand for in this mode.
    @property
    def training(self) -> bool:
        """Whether this is a training step."""
        return self.mode == "training"

    @property
    def resolved_precision(self) -> str:
        """Training precision with its default applied."""
        if self.precision is not None:
            return self.precision
        return "pure" if get_format(self.dtype).name == "fp32" else "mixed"

    @property
    def resolved_optimizer(self) -> Optimizer:
        """Optimizer with its default (AdamW) applied."""
        return get_optimizer(self.optimizer or "adamw")

    @property
    def resolved_checkpointing(self) -> str:
        """Checkpointing with its default (none) applied."""
        return self.checkpointing or "none"

    @property
    def resolved_logits(self) -> str:
        """Kept logits with the default (last position, as ``generate`` does) applied."""
        return self.logits or "last"

    @property
    def compute_dtype(self) -> str:
        """The dtype training computes in: ``dtype``, or BF16 on a QLoRA (NF4) base."""
        name = get_format(self.dtype).name
        return "bf16" if name == QLORA_DTYPE else name

    @property
    def qlora(self) -> bool:
        """Whether this is QLoRA: LoRA on an NF4 base."""
        return self.lora_rank is not None and get_format(self.dtype).name == QLORA_DTYPE

    @property
    def resolved_adapter_dtype(self) -> str:
        """The adapters' dtype with peft's default (FP32) applied."""
        return self.adapter_dtype or "fp32"

    @property
    def adapted(self) -> tuple[str, ...] | None:
        """The modules LoRA adapts, or None for all linear layers (and without LoRA)."""
        if self.lora_targets in (None, ALL_LINEAR):
            return None
        return tuple(self.lora_targets.split(","))

    def with_(self, **changes: object) -> Workload:
        """A copy with some fields changed (and validated again)."""
        return super().with_(**changes)


#: The fields that hold names; the first three are required, the others may be None.
_TEXT_FIELDS = (
    "mode",
    "dtype",
    "attention",
    "kv_dtype",
    "precision",
    "optimizer",
    "optimizer_impl",
    "checkpointing",
    "logits",
    "lora_targets",
    "adapter_dtype",
)
_REQUIRED_TEXT = _TEXT_FIELDS[:3]


def _choice(name: str, value: object, accepted: tuple[str, ...]) -> None:
    if value not in accepted:
        raise UnknownNameError(name, str(value), accepted)
