r"""FSDP2 (``fully_shard``) per GPU: the gathered copies and communication buffers that live
beside the sharded state, counted from PyTorch's ``torch/distributed/fsdp/_fully_shard``.

Each transformer block is one ``fully_shard`` unit; the root unit holds the rest: the
embeddings, the final norm and the LM head. The sharded weights, gradients and optimizer
states are :mod:`~gpumem.symbolic.state`'s terms (divided by :math:`N_{dp}`; under the
``MixedPrecisionPolicy`` the sharded weights and gradients are FP32 and no other master copy
exists). What this module adds, in the compute dtype :math:`b_a` (the policy's
``param_dtype``) unless said otherwise:

- the root's gathered weights, kept from its forward to the end of backward (FSDP does not
  reshard the root after forward, ``_fsdp_state._lazy_init``); with
  ``reshard_after_forward=False`` (:math:`z_3 = 0`) every block's too, until its
  post-backward reshards it;
- one block's flat all-gather output (``foreach_all_gather``): in forward it is kept after
  its copy-out until the next block's copy-out, the last block's until the root's
  post-forward, so it is live while the LM head and the loss run; when backward starts with
  resharded blocks, the last block's all-gather is prefetched (``_backward_prefetch``) and
  its output waits there;
- at the end of backward, the root's gradients before its reduce-scatter: the LM head's and
  the embedding's, with tied weights also their sum (autograd adds the two before
  accumulating), and one block's flat reduce-scatter input in the reduce dtype
  (:math:`b_g`), kept until the next reduce-scatter (``reduce_scatter_max_input_buffers``
  = 1); the blocks' sharded gradients are then complete, the root's not yet reduced.

Backward through the blocks (a phase of its own): when block :math:`k`'s gradients are
complete, before its reduce-scatter, the activations of the blocks below it are live; the
root's gathered weights and the LM head's unreduced gradient (the tied matrix's, when tied);
block :math:`k` gathered (every block from the first to :math:`k` with
``reshard_after_forward=False``) and, with resharded blocks, block :math:`k-1`'s prefetched
all-gather output; block :math:`k`'s unsharded gradients in the compute dtype; block
:math:`k+1`'s reduce-scatter input; and the gradient shards of the blocks above. These grow or
shrink linearly with :math:`k`, so the largest is at :math:`k = L-2` (the second block from
the top) or :math:`k = 1` (from the bottom); each is a phase.

FSDP2 shards each parameter along its first dimension, padded to a multiple of
:math:`N_{dp}` (``FSDPParam._init_sharded_param``): transformers keeps a layer's routed experts
in tensors whose first dimension is the expert (and the router's rows are the experts), so
with :math:`n_e` not a multiple of :math:`N_{dp}` every rank holds
:math:`\lceil n_e / N_{dp} \rceil` experts' rows (``fsdp_padding``). The padding is in the
sharded state, in the all-gather and reduce-scatter buffers and in the gathered weights (each
an unpadded view of its padded all-gather output), not in the unsharded gradients.

Not counted: the padding of other first dimensions (at most :math:`N_{dp} - 1` rows each,
such as an odd vocabulary's) and the small per-block copies made while casting a shard for its
all-gather.
"""

from __future__ import annotations

import sympy as sp

from .core import define
from .derived import stage_shard_grads
from .inputs import L, P, P_t, V, b_a, b_g, h, t_w, y_f, z_3

P_layers = sp.Symbol("layer_parameters")
P_b = P_layers / L  # one fully_shard unit: a transformer block
# a block's flat all-gather and reduce-scatter buffers: its shards padded, times N_dp
P_pb = (P_layers + sp.Symbol("fsdp_padding")) / L
root = define(
    "gathered_root",
    r"M_{U,\mathrm{root}}",
    y_f * (P - P_layers) * b_a,
    "the root unit's gathered weights (embeddings, LM head), never resharded after forward",
    component="gathered_weights",
)
define(
    "gathered_weights",
    "M_{U}",
    root + y_f * (1 - z_3) * P_pb * L * b_a,
    "gathered weights held from forward to backward: the root's and, with "
    "reshard_after_forward=False, every block's",
)
define(
    "all_gather_buffer",
    r"M_{\mathrm{AG}}",
    y_f * P_pb * b_a,
    "one block's flat all-gather output, kept in forward until the next block's copy-out "
    "(the last block's until the root's post-forward)",
)
define(
    "all_gather_prefetch",
    r"M_{\mathrm{AG},\mathrm{bwd}}",
    z_3 * y_f * P_pb * b_a,
    "with resharded blocks, the last block's all-gather output, prefetched as backward starts",
    component="all_gather_buffer",
)
define(
    "block_gradients",
    r"M_{G,\mathrm{blocks}}",
    (P_t - y_f * (P - P_layers)) * b_g / stage_shard_grads,
    "gradients complete at the end of backward: with FSDP2 the blocks' shards (the root's are "
    "still unreduced), else every gradient",
    component="gradients",
)
define(
    "root_gradients",
    r"M_{G,\mathrm{root}}",
    y_f * (2 + t_w) * V * h * b_a,
    "the root's gradients before its reduce-scatter: the LM head's and the embedding's and, "
    "for tied weights, their sum",
)
define(
    "reduce_scatter_buffer",
    r"M_{\mathrm{RS}}",
    y_f * P_pb * b_g,
    "one block's flat reduce-scatter input in the reduce dtype, kept until the next reduce-scatter",
)


M_A = sp.Symbol("activations_training")
M_Gb = sp.Symbol("block_gradients")


def _block_backward(k: sp.Expr, where: str, latex: str) -> None:
    """The terms of block ``k``'s backward, named ``…_<where>``."""
    define(
        f"activations_backward_{where}",
        rf"M_{{A,{latex}}}",
        y_f * k * M_A / L,
        f"activations of the blocks below the {where} block's backward",
        component="activations",
    )
    define(
        f"gathered_backward_{where}",
        rf"M_{{U,{latex}}}",
        root + y_f * P_pb * b_a * (z_3 + (1 - z_3) * (k + 1)),
        f"gathered weights in the {where} block's backward: the root's and that block's or, "
        "with reshard_after_forward=False, every block's up to it",
        component="gathered_weights",
    )
    define(
        f"block_gradients_backward_{where}",
        rf"M_{{G,{latex}}}",
        y_f * (M_Gb * (L - 1 - k) / L + P_b * b_a),
        f"gradients in the {where} block's backward: the shards of the blocks above and that "
        "block's unsharded gradients",
        component="gradients",
    )


# Block k's backward grows with k by a block's activations (and, with gathered blocks, its
# weights) less a block's gradient shard: its largest is at the second block from the top or
# from the bottom (the first has no block to prefetch).
_block_backward(sp.Max(L - 2, 0), "top", r"\mathrm{top}")
_block_backward(sp.Min(1, L - 1), "bottom", r"\mathrm{bottom}")
define(
    "head_gradient",
    r"M_{G,\mathrm{head}}",
    y_f * V * h * b_a,
    "the LM head's unreduced gradient (the tied matrix's, when tied), kept to the root's "
    "reduce-scatter",
    component="root_gradients",
)
