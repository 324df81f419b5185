"""What the memory model needs to know about a network: :class:`ModelSpec`.

A spec is read from a Hugging Face ``config.json`` (see :func:`from_config`), from a model
directory (config plus safetensors headers), or from the built-in catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelSpec:
    """Architecture of a transformer, as far as memory is concerned.

    Sizes are counts (not bytes). MoE fields are zero for dense models, MLA fields are zero
    for models with ordinary multi-head / grouped-query attention.
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
    gated_mlp: bool = True  # SwiGLU/GeGLU: gate, up and down projections
    causal: bool = True  # decoder (False: encoder such as BERT, no KV cache)
    tie_word_embeddings: bool = False
    # Mixture of experts
    n_experts: int = 0
    n_experts_active: int = 0
    moe_intermediate_size: int = 0
    n_shared_experts: int = 0  # shared experts, each of width shared_intermediate_size
    shared_intermediate_size: int = 0
    n_dense_layers: int = 0  # leading layers with a dense MLP in an MoE model
    # Multi-head latent attention (DeepSeek-V2/V3)
    kv_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    # Sliding-window attention: how many layers see only the last ``sliding_window`` tokens
    sliding_window: int = 0
    n_sliding_layers: int = 0
    # Where the numbers came from
    source: str = ""
    parameters_source: str = "architecture"  # "architecture", "safetensors" or "catalog"
    checkpoint_dtype: str | None = None  # dtype stored in the checkpoint, when known
    extra: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_moe(self) -> bool:
        """Whether the MLP of (some) layers is a mixture of experts."""
        return self.n_experts > 0

    @property
    def uses_mla(self) -> bool:
        """Whether attention caches a compressed latent (MLA) instead of keys and values."""
        return self.kv_lora_rank > 0
