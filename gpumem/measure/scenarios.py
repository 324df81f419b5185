"""The measured scenarios and the default grid."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Mode = Literal["weights", "prefill", "generate", "train"]


@dataclass(frozen=True)
class Scenario:
    """One measurement.

    Attributes
    ----------
    mode
        ``weights`` (model only), ``prefill`` (one forward with KV cache, no grad),
        ``generate`` (greedy decoding: prefill keeping the last logits, then one-token steps),
        ``train`` (forward, backward and AdamW step; the second step is measured).
    dtype
        Weight dtype, ``fp32`` or ``bf16``; ``nf4`` for QLoRA (with ``lora_rank``): the linear
        layers in NF4 through bitsandbytes, the rest in BF16.
    amp
        Autocast dtype (``bf16``) for mixed-precision training of fp32 weights, else ``None``.
    logits
        ``all`` positions or only the ``last`` one (``logits_to_keep=1``).
    optimizer
        AdamW implementation, ``foreach`` or ``fused``.
    lora_rank, lora_targets
        Train peft LoRA adapters of this rank on a frozen base (0: full training), on
        ``lora_targets`` (peft's ``all-linear`` or a comma-separated list of module names).
    adapter_dtype
        ``bf16``: the adapters kept in the base's dtype (peft's ``autocast_adapter_dtype=False``);
        ``None``: peft's default, FP32 adapters.
    world, reshard_after_forward, param_dtype
        FSDP2 training measured on one of ``world`` ranks (0: no FSDP), each block resharded
        after forward or not, with a ``MixedPrecisionPolicy`` computing in ``param_dtype``
        (``None``: in the weights' dtype, no policy).
    """

    mode: Mode
    dtype: str = "bf16"
    amp: str | None = None
    batch: int = 0
    seq: int = 0
    logits: Literal["all", "last"] | None = None
    new_tokens: int = 0
    grad_checkpointing: bool = False
    optimizer: Literal["foreach", "fused"] | None = None
    lora_rank: int = 0
    lora_targets: str | None = None
    adapter_dtype: str | None = None
    world: int = 0
    reshard_after_forward: bool = False
    param_dtype: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """All parameters, as written to the records."""
        return asdict(self)

    def label(self) -> str:
        """Short description naming the parameters that are set."""
        return " ".join(f"{k}={v}" for k, v in asdict(self).items() if v not in (None, 0, False))


def default_grid(decoder: bool, max_seq: int) -> list[Scenario]:
    """Scenarios measured for one model; encoders get no KV cache or decoding.

    Sequence lengths are capped at the model's ``max_seq`` positions (prompt plus new tokens).
    """
    new_tokens = 2
    grid = [Scenario("weights", dtype) for dtype in ("fp32", "bf16")]
    for batch in (1, 4):
        for seq in (512, 2048):
            grid.append(
                Scenario("prefill", "bf16", batch=batch, seq=min(seq, max_seq), logits="all")
            )
            if decoder:
                prompt = min(seq, max_seq - new_tokens)
                grid.append(
                    Scenario(
                        "generate",
                        "bf16",
                        batch=batch,
                        seq=prompt,
                        logits="last",
                        new_tokens=new_tokens,
                    )
                )
    for dtype, amp in (("fp32", None), ("fp32", "bf16"), ("bf16", None)):
        # The AdamW implementation only changes the optimizer step: compared without checkpointing.
        for ckpt, opt in ((False, "foreach"), (False, "fused"), (True, "foreach")):
            grid.append(
                Scenario(
                    "train",
                    dtype,
                    amp,
                    batch=4,
                    seq=min(2048, max_seq),
                    logits="all",
                    grad_checkpointing=ckpt,
                    optimizer=opt,
                )
            )
    return list(dict.fromkeys(grid))


def held_out_grid(decoder: bool, max_seq: int) -> list[Scenario]:
    """Scenarios at shapes the default grid never measured, for out-of-sample validation.

    Batch x sequence 1 x 128, 2 x 1024 and 1 x 8192 (capped at ``max_seq``) for inference;
    1 x 512 and 2 x 1024 for training, in BF16, under autocast and with checkpointing. A shape
    that the cap makes equal to one of :func:`default_grid` is left out.
    """
    seen = {(sc.mode, sc.batch, sc.seq) for sc in default_grid(decoder, max_seq)}
    grid = []
    for batch, seq in ((1, 128), (2, 1024), (1, 8192)):
        grid.append(Scenario("prefill", "bf16", batch=batch, seq=min(seq, max_seq), logits="all"))
        if decoder:
            prompt = min(seq, max_seq) - 4
            grid.append(
                Scenario("generate", "bf16", batch=batch, seq=prompt, logits="last", new_tokens=4)
            )
    for dtype, amp, batch, seq, ckpt in (
        ("bf16", None, 1, 512, False),
        ("fp32", "bf16", 2, 1024, False),
        ("bf16", None, 2, 1024, True),
    ):
        grid.append(
            Scenario(
                "train",
                dtype,
                amp,
                batch=batch,
                seq=min(seq, max_seq),
                logits="all",
                grad_checkpointing=ckpt,
                optimizer="foreach",
            )
        )
    return [sc for sc in dict.fromkeys(grid) if (sc.mode, sc.batch, sc.seq) not in seen]


def _lora_step(
    dtype: str,
    batch: int,
    seq: int,
    ckpt: bool,
    rank: int,
    targets: str,
    adapters: str | None = None,
) -> Scenario:
    """One LoRA training step with PyTorch's default AdamW, the loss over every position."""
    return Scenario(
        "train",
        dtype,
        batch=batch,
        seq=seq,
        logits="all",
        grad_checkpointing=ckpt,
        optimizer="foreach",
        lora_rank=rank,
        lora_targets=targets,
        adapter_dtype=adapters,
    )


def lora_grid(decoder: bool, max_seq: int) -> list[Scenario]:
    """LoRA on a frozen BF16 base: rank 16 on q_proj and v_proj or on every linear layer,
    with and without checkpointing, 4 x 512 tokens (decoders only)."""
    if not decoder:
        return []
    return [
        _lora_step("bf16", 4, min(512, max_seq), ckpt, 16, targets)
        for targets in ("q_proj,v_proj", "all-linear")
        for ckpt in (False, True)
    ]


def inference_grid(decoder: bool, max_seq: int) -> list[Scenario]:
    """Inference alone at a short and the longest prompt: prefill of 1 x 512 and 1 x 8,192
    tokens (capped at ``max_seq``), each also as 4 new tokens after a prompt 4 shorter."""
    grid = []
    for seq in (512, min(8192, max_seq)):
        grid.append(Scenario("prefill", "bf16", batch=1, seq=seq, logits="all"))
        if decoder:
            grid.append(
                Scenario("generate", "bf16", batch=1, seq=seq - 4, logits="last", new_tokens=4)
            )
    return list(dict.fromkeys(grid))


def lora_shapes_grid(decoder: bool, max_seq: int) -> list[Scenario]:
    """LoRA by target set, rank, checkpointing and base dtype, at 1 x 512 and 4 x 2048
    (decoders only): q_proj,v_proj or all-linear, rank 8 or 64, with and without
    checkpointing, on a BF16 or an FP32 base with peft's FP32 adapters; and BF16 adapters on a
    BF16 base (peft's ``autocast_adapter_dtype=False``) without checkpointing."""
    if not decoder:
        return []
    grid = [
        _lora_step(dtype, batch, min(seq, max_seq), ckpt, rank, targets, adapters)
        for batch, seq in ((1, 512), (4, 2048))
        for dtype, adapters, checkpointing in (
            ("bf16", None, (False, True)),
            ("fp32", None, (False, True)),
            ("bf16", "bf16", (False,)),
        )
        for ckpt in checkpointing
        for targets in ("q_proj,v_proj", "all-linear")
        for rank in (8, 64)
    ]
    return list(dict.fromkeys(grid))


def qlora_grid(decoder: bool, max_seq: int) -> list[Scenario]:
    """QLoRA (decoders only): peft's FP32 adapters on an NF4 base of double-quantized blocks of
    64 computing in BF16, on q_proj,v_proj or all-linear, rank 8 or 64, with and without
    checkpointing, at 1 x 512 and 4 x 2048."""
    if not decoder:
        return []
    grid = [
        _lora_step("nf4", batch, min(seq, max_seq), ckpt, rank, targets)
        for batch, seq in ((1, 512), (4, 2048))
        for ckpt in (False, True)
        for targets in ("q_proj,v_proj", "all-linear")
        for rank in (8, 64)
    ]
    return list(dict.fromkeys(grid))


def _fsdp2(batch: int, seq: int, world: int) -> list[Scenario]:
    """FSDP2 training at one shape and world size: ZeRO-2 and ZeRO-3 semantics
    (``reshard_after_forward`` False and True), FSDP's mixed precision (FP32 weights, BF16
    compute) and pure BF16, with and without checkpointing."""
    return [
        Scenario(
            "train",
            "fp32" if mixed else "bf16",
            batch=batch,
            seq=seq,
            logits="all",
            grad_checkpointing=ckpt,
            optimizer="foreach",
            world=world,
            reshard_after_forward=reshard,
            param_dtype="bf16" if mixed else None,
        )
        for reshard in (False, True)
        for mixed in (True, False)
        for ckpt in (False, True)
    ]


def fsdp2_fitted_grid(decoder: bool, max_seq: int) -> list[Scenario]:
    """FSDP2 scenarios the per-rank terms may be checked on: 2 ranks at 1 x 512 (decoders)."""
    return _fsdp2(1, min(512, max_seq), 2) if decoder else []


def fsdp2_grid(decoder: bool, max_seq: int) -> list[Scenario]:
    """FSDP2 scenarios held out: 2, 4 and 8 ranks at 1 x 512 and 2 x 2048 (decoders), less
    those of :func:`fsdp2_fitted_grid`."""
    if not decoder:
        return []
    fitted = fsdp2_fitted_grid(decoder, max_seq)
    grid = [
        sc
        for batch, seq in ((1, 512), (2, 2048))
        for world in (2, 4, 8)
        for sc in _fsdp2(batch, min(seq, max_seq), world)
    ]
    return [sc for sc in grid if sc not in fitted]


def recurrent_grid(decoder: bool, max_seq: int) -> list[Scenario]:
    """Inference of hybrids with recurrent layers (decoders only), whose state does not grow
    with the context: prefill of 1 and 4 sequences of 128 and 2,048 tokens (capped at
    ``max_seq``), each also as 4 new tokens after that prompt; and 16 sequences of 128 tokens,
    where the state of every sequence weighs more than their keys and values."""
    if not decoder:
        return []
    grid = []
    for batch, seq in ((1, 128), (1, 2048), (4, 128), (4, 2048), (16, 128)):
        seq = min(seq, max_seq - 4)
        grid.append(Scenario("prefill", "bf16", batch=batch, seq=seq, logits="all"))
        grid.append(Scenario("generate", "bf16", batch=batch, seq=seq, logits="last", new_tokens=4))
    return list(dict.fromkeys(grid))
