"""What vLLM's profiling run holds for a vision-language model's encoder (Qwen3.5's tower).

vLLM's ``GPUModelRunner.profile_run`` (vllm/v1/worker/gpu_model_runner.py, the same from 0.19
to 0.29) first runs the vision encoder on a batch of dummy items of the largest size
(``_get_mm_dummy_batch``), keeps the outputs in its encoder cache, then runs the language
model's dummy batch and the sampler, and frees the cache and the dummy inputs only after both.
The batch (vllm/multimodal/encoder_budget.py ``MultiModalBudget``,
vllm/v1/core/encoder_cache_manager.py ``compute_mm_encoder_budget``): the modality whose item
has the most tokens among those whose ``--limit-mm-per-prompt`` is above 0 (999 unless given,
0 for every one with ``--language-model-only``); as many items as the encoder budget,
``max(max_num_batched_tokens, tokens of an item)``, holds, at most ``max_num_seqs`` times the
items one request of ``max_model_len`` tokens may carry (at least one).
"""

from __future__ import annotations

import sympy as sp

from .core import CeilDiv, FloorDiv, define, sym
from .inputs import N_tp, b_a, h
from .serving import N_s, T_b

# --- the dummy item: Qwen2VLProcessingInfo.get_image_size_with_most_features, -------------
# Qwen3VLProcessingInfo._get_vision_info and get_max_video_tokens (qwen2_vl.py, qwen3_vl.py):
# the image factorises max_pixels // (patch merge)^2 merged tokens into a grid of that many
# (patch merge)-pixel squares; a video is two frames, each of at most its processor's
# longest_edge // temporal_patch_size pixels, one temporal patch deep.
X_i = sym("X_i", r"X_{\mathrm{img}}", "largest image the processor keeps, in pixels")
X_v = sym(
    "X_v",
    r"X_{\mathrm{vid}}",
    "largest video the processor keeps, in pixels over its temporal patch of frames",
)
p_v = sym("p_v", "p_v", "vision tower's patch size (pixels a side)", integer=True)
m_v = sym("m_v", "m_v", "patches a side the vision tower merges into one token", integer=True)
t_pv = sym("t_pv", r"t_{p,v}", "frames in one patch of the vision tower", integer=True)
C_v = sym("C_v", "C_v", "colour channels of the vision tower's input", integer=True)
d_e = sym("d_e", "d_e", "vision tower's hidden size", integer=True)
f_v = sym("f_v", "f_v", "vision tower's MLP width", integer=True)
n_hv = sym("n_hv", r"n_{h,v}", "vision tower's attention heads", integer=True)
n_li = sym(
    "n_li",
    r"n_{\mathrm{img}}",
    "images a prompt may hold (--limit-mm-per-prompt; 0 with --language-model-only)",
    integer=True,
)
n_lv = sym(
    "n_lv",
    r"n_{\mathrm{vid}}",
    "videos a prompt may hold (--limit-mm-per-prompt; 0 with --language-model-only)",
    integer=True,
)
s_mx = sym("s_mx", r"s_{\max}", "tokens one request may hold (max_model_len)", integer=True)

_square = (p_v * m_v) ** 2
define(
    "encoder_image_tokens",
    r"t_{\mathrm{img}}",
    FloorDiv(X_i, _square),
    "tokens of the largest image: one per merged square of patches",
)
define(
    "encoder_video_tokens",
    r"t_{\mathrm{vid}}",
    CeilDiv(2, t_pv) * FloorDiv(FloorDiv(X_v, t_pv), _square),
    "tokens of the largest dummy video: two frames, each of at most X_vid / t_pv pixels",
)
t_img, t_vid = sp.Symbol("encoder_image_tokens"), sp.Symbol("encoder_video_tokens")
_images, _videos = sp.Min(n_li, 1), sp.Min(n_lv, 1)
# get_modality_with_max_tokens: the most tokens, "video" before "image" on a tie
_video = (_videos > 0) & (t_vid >= _images * t_img)
define(
    "encoder_item_tokens",
    r"t_{\mathrm{mm}}",
    sp.Max(_images * t_img, _videos * t_vid),
    "tokens of the dummy item the engine profiles its encoder with: the larger of the largest "
    "image and video among the modalities a prompt may hold (0 if none)",
)
t_mm = sp.Symbol("encoder_item_tokens")
_per_prompt = sp.Max(1, sp.Min(sp.Piecewise((n_lv, _video), (n_li, True)), FloorDiv(s_mx, t_mm)))
define(
    "encoder_items",
    r"n_{\mathrm{mm}}",
    sp.Piecewise(
        (0, sp.Eq(t_mm, 0)),
        (sp.Max(1, sp.Min(FloorDiv(sp.Max(T_b, t_mm), t_mm), N_s * _per_prompt)), True),
    ),
    "dummy items in the encoder's profiling batch: what the encoder budget (the larger of "
    "max_num_batched_tokens and one item) holds, at most max_num_seqs requests of the items a "
    "prompt may carry",
)
n_mm = sp.Symbol("encoder_items")
define(
    "encoder_patches",
    r"N_{\mathrm{patch}}",
    n_mm * m_v**2 * t_mm,
    "patches the vision tower runs on in the profiling batch",
)
N_v = sp.Symbol("encoder_patches")
define(
    "encoder_pixels",
    r"M_{\mathrm{pix}}",
    N_v * C_v * t_pv * p_v**2 * b_a,
    "the dummy batch's pixel values on the GPU, in the model's dtype, held through the whole "
    "profiling run",
)
define(
    "encoder_outputs",
    r"M_{\mathrm{enc}}",
    n_mm * t_mm * h * b_a,
    "the encoder's outputs (one vector of the language model's width per token) kept in the "
    "encoder cache while the language model's dummy batch runs",
)
# Qwen3_VisionTransformer.forward and Qwen3_VisionBlock (qwen3_vl.py; attention:
# Qwen2_5_VisionAttention in qwen2_5_vl.py) over N patches of d_e values, with the weights
# split over the tensor-parallel GPUs (mm_encoder_tp_mode 'weights', the default). Held
# through every block: the position embeddings and the rotary cos/sin (d_e / n_hv values a
# patch). In a block, the block's input (its caller keeps it) and the first norm's output
# (its module call's arguments) beside the fused QKV output (3 d_e / N_tp), the contiguous
# copy of the queries and keys and their rotated copy (2 d_e / N_tp each), the attention
# output (FlashAttention's varlen kernel on CUDA from compute capability 8.0, no score
# matrix: d_e / N_tp) and the output projection (d_e, and the all-reduce's new tensor with
# tensor parallelism); in the MLP the block's input, the attention's residual sum, the second
# norm's output and the first projection with its activation (f_v / N_tp each), or the
# activation and the second projection (and its all-reduce). The patch merger's and the
# deepstack mergers' work is smaller (Qwen3.5 has none of the latter).
_tp = sp.Min(N_tp - 1, 1)
_block = sp.Max(
    (3 + _tp) * d_e + 8 * d_e / N_tp,
    3 * d_e + 2 * f_v / N_tp,
    (4 + _tp) * d_e + f_v / N_tp,
)
define(
    "encoder_workspace",
    r"M_{\mathrm{ViT}}",
    N_v * b_a * (d_e + d_e / n_hv + _block),
    "the vision tower's working set at its peak over the profiling batch: position and "
    "rotary embeddings, and the largest of a block's attention and MLP",
)
