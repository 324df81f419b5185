"""How an inference engine sizes its paged KV cache, after vLLM V1."""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from .cache import e_kv
from .core import FORMULAS, CeilDiv, FloorDiv, define, sym
from .derived import P_layer_stage
from .inputs import (
    SECOND_FLAGS,
    SHIPPED_FLAGS,
    L,
    L_d,
    L_e,
    L_n,
    L_r,
    L_s,
    N_pp,
    N_tp,
    P,
    P_q,
    V,
    b_a,
    b_kv,
    b_q,
    b_q2,
    b_r,
    b_w,
    c_kv,
    c_r,
    d_gv,
    d_h,
    d_r,
    e_r,
    e_t,
    f,
    f_e,
    f_s,
    f_x,
    h,
    i_r,
    k_e,
    m_g,
    n_e,
    n_g,
    n_h,
    n_s,
    q_a,
    q_b,
    q_e,
    q_h,
    q_m,
    q_o,
    q_r,
    q_s,
    q_v,
    s,
    t_w,
    w,
    w_c,
    x_s,
)
from .phases import M_W

# --- serving: how an inference engine sizes its paged KV cache (vLLM V1) ---------------------
M_gpu = sym("M_gpu", r"M_{\mathrm{GPU}}", "memory the device reports to CUDA (bytes)")
u = sym("u", "u", "share of the device memory the engine may use (gpu_memory_utilization)")
T_b = sym(
    "T_b",
    r"T_{\mathrm{batch}}",
    "tokens of the engine's largest forward pass (max_num_batched_tokens)",
    integer=True,
)
N_s = sym("N_s", r"N_{\mathrm{seq}}", "sequences sampled in one step (max_num_seqs)", integer=True)
l_s = sym(
    "l_s",
    r"\lambda_s",
    "bytes the sampler holds per logit beside the logits in the model's dtype (FP32 copies)",
)
c_h = sym(
    "c_h",
    "c_h",
    "1 when the engine's sampler runs while the forward pass's hidden states are still held, "
    "0 when the engine's fitted memory terms hold them",
    integer=True,
)
n_tk = sym(
    "n_tk",
    r"n_{\mathrm{tk}}",
    "rows of the engine's top-k/top-p buffer, one FP32 row of the vocabulary per rows' program",
    integer=True,
)
M_blas = sym(
    "M_blas",
    r"M_{\mathrm{BLAS}}",
    "cuBLAS workspace PyTorch allocates at the first matrix product of the profiling run",
)
M_nt = sym(
    "M_nt",
    r"M_{\mathrm{nt}}",
    "memory allocated outside PyTorch while the engine starts (NCCL, cuBLAS workspaces)",
)
M_cg = sym(
    "M_cg",
    r"M_{\mathrm{cg}}",
    "CUDA-graph memory set aside before the cache is sized (0 before vLLM 0.20)",
)
s_b = sym("s_b", "s_b", "tokens per KV-cache block (block_size)", integer=True)
L_g = sym("L_g", "L_g", "layers on one GPU sharing a block table (per group)", integer=True)
n_G = sym("n_G", "n_G", "KV-cache groups (1 unless layers differ in attention type)", integer=True)
n_gw = sym("n_gw", r"n_{g,w}", "KV-cache groups of sliding-window layers", integer=True)
n_gc = sym("n_gc", r"n_{g,c}", "KV-cache groups of chunked-attention layers", integer=True)
n_gr = sym(
    "n_gr",
    r"n_{g,r}",
    "KV-cache groups of recurrent layers (Mamba, linear attention): one state per request",
    integer=True,
)
c_pa = sym(
    "c_pa",
    r"c_{\mathrm{align}}",
    "1 when the engine caches prefixes of recurrent layers in vLLM's 'align' mode (a second "
    "block a request in each recurrent group), else 0",
    integer=True,
)
c_ck = sym(
    "c_ck",
    r"c_{\mathrm{ckpt}}",
    "1 when the recurrent layers keep a prefill checkpoint block a request in 'align' mode "
    "(vLLM 0.32 and later for Mamba-2 mixers), else 0",
    integer=True,
)
a_b = sym("a_b", r"a_b", "tokens the attention kernels need a block size to be a multiple of")
T_mc = sym(
    "T_mc",
    r"T_{\mathrm{moe}}",
    "tokens of one chunk of the engine's fused-MoE kernel (0: all the batch's tokens at once)",
    integer=True,
)
c_moe = sym(
    "c_moe",
    r"c_{\mathrm{moe}}",
    "1 when the engine keeps its fused-MoE workspace through the profiling run, 0 when the "
    "engine's fitted memory terms hold it",
    integer=True,
)
N_r = sym("N_r", r"N_{\mathrm{req}}", "requests to hold at once", integer=True)
n_sd = sym(
    "n_sd",
    r"n_{\mathrm{spec}}",
    "tokens the drafter proposes a step (vLLM's num_speculative_tokens; 0 without "
    "speculative decoding)",
    integer=True,
)
L_m = sym(
    "L_m",
    r"L_{\mathrm{MTP}}",
    "layers of the multi-token-prediction module the engine loads as the drafter (0 without "
    "speculative decoding)",
    integer=True,
)
c_al = sym(
    "c_al",
    r"c_{\mathrm{al}}",
    "1 when the engine's loaded weights are counted as allocated (allocator rounding, rotary "
    "cache, padded vocabulary), 0 when the engine's fitted memory terms hold them",
    integer=True,
)
s_p = sym(
    "s_p",
    "s_p",
    "positions the rotary embedding's cos/sin cache holds (the model's context window)",
    integer=True,
)

define(
    "sampler_logits",
    r"M_{\Lambda s}",
    N_s * V * (b_a + l_s),
    "logits of one step over N_s sequences in the model's dtype and the sampler's FP32 copies",
)
# vLLM 0.17-0.19's profiling run (gpu_model_runner.profile_run, _dummy_sampler_run; sampler.py,
# ops/topk_topp_sampler.py, ops/topk_topp_triton.py): the dummy forward pass's hidden states
# (T_b rows) and the N_s rows taken from them stay referenced while the sampler runs on a
# random copy of those rows; the sampler casts the logits to FP32 and, for the dummy top-k and
# top-p, the Triton kernel masks them in place with a cached FP32 buffer of one vocabulary row
# per program (min(SMs, N_s) programs, rounded as the kernel does), then holds FP32
# probabilities and FP32 exponential noise beside them. The first matrix product also makes
# PyTorch allocate its cuBLAS workspace (CublasHandlePool.cpp), which stays allocated.
define(
    "engine_sampler_run",
    r"M_{\mathrm{samp}}",
    c_h * (T_b + 2 * N_s) * h * b_a + sp.Symbol("sampler_logits") + n_tk * V * 4 + M_blas,
    "memory the engine's dummy sampler run holds: the forward pass's hidden states and the "
    "sampled rows (where the engine keeps them), the logits and the sampler's FP32 copies, the "
    "top-k/top-p buffer and the cuBLAS workspace",
)
# --- vLLM's second model runner (vllm/v1/worker/gpu/, "Model Runner V2") --------------------
c_v2 = sym(
    "c_v2",
    r"c_{\mathrm{V2}}",
    "1 when the engine runs vLLM's second model runner (vllm/v1/worker/gpu/), 0 for the first "
    "(gpu_model_runner.py)",
    integer=True,
)
c_rb = sym(
    "c_rb",
    r"c_{\mathrm{buf}}",
    "1 when the engine's budget counts what its model runner allocates after the weights "
    "(vLLM 0.27.1 and later count the memory consumed since start-up), else 0",
    integer=True,
)
c_mm = sym(
    "c_mm",
    r"c_{\mathrm{mm}}",
    "1 when the engine takes multimodal inputs (a vision tower with some modality allowed), else 0",
    integer=True,
)
# --- vLLM's pipeline stages (the GPU whose stage sizes the cache) ---------------------------
# Each stage builds its own layers (model_executor/models/utils.py make_layers over
# distributed/utils.py get_pp_indices: L // N_pp layers a stage, the remainder one more each on
# the stages before the last; 0.19.0 to 0.33.0), the token embedding on the first (on the last
# too where tied: the LM head is that matrix) and the final norm and LM head on the last, a
# PPMissingLayer elsewhere (qwen2.py, qwen3_moe.py, llama.py). Only the last runs the sampler
# in the profile (profile_run in gpu_model_runner.py and gpu/model_runner.py), and the second
# runner builds its Sampler and StructuredOutputsWorker there only (load_model). The engine
# takes the fewest blocks over the workers (v1/core/kv_cache_utils.py get_kv_cache_configs,
# each worker's available memory over its own layers' pages), so one stage sizes the cache.
c_pf = sym(
    "c_pf",
    r"c_{\mathrm{first}}",
    "1 when the GPU's pipeline stage is the first (it holds the token embedding), else 0",
    integer=True,
)
c_pl = sym(
    "c_pl",
    r"c_{\mathrm{last}}",
    "1 when the GPU's pipeline stage is the last (final norm, LM head, sampler), else 0",
    integer=True,
)
define(
    "engine_stage_parameters",
    r"P_{\mathrm{stage}}",
    sp.Piecewise(
        (P, N_pp <= 1),
        (
            c_pf * sp.Symbol("stage_first_parameters")
            + c_pl * sp.Symbol("stage_last_parameters")
            + (1 - c_pf - c_pl) * P_layer_stage,
            True,
        ),
    ),
    "parameters of the engine's pipeline stage: its L_s layers, with the token embedding on "
    "the first and the final norm and LM head on the last (the whole model without pipeline "
    "parallelism)",
)
# A stage after the first receives the previous stage's hidden states and residual into
# persistent buffers of max_num_batched_tokens rows in the model's dtype
# (make_empty_intermediate_tensors, model_executor/models/utils.py): the first runner
# allocates them in its first dummy run, inside the profile (gpu_model_runner.py _dummy_run),
# the second in load_model (gpu/model_runner.py), after the start-up snapshot.
define(
    "engine_stage_intermediate",
    r"M_{\mathrm{PP}}",
    (1 - c_pf) * 2 * T_b * h * b_a,
    "the buffers of a pipeline stage after the first for the hidden states and the residual "
    "it receives, T_b rows each",
)
c_gs = sym(
    "c_gs",
    r"c_{g,\Sigma}",
    "1 when the engine's CUDA-graph estimate is the second model runner's (vLLM 0.29): the "
    "first captures of both modes add and the piecewise warm-ups run attention; 0 when it "
    "takes the larger first capture (the first runner)",
    integer=True,
)
N_q = sym(
    "N_q",
    r"N_{\mathrm{slot}}",
    "requests the engine keeps sampling state for (max_num_seqs)",
    integer=True,
)
# The second runner's profile_run (vllm/v1/worker/gpu/model_runner.py, 0.22.0 to 0.29.0):
# _dummy_run(max_num_tokens, skip_attn=True, is_profile=True) keeps the forward pass's hidden
# states and gathers the N_s rows to sample (hidden_states[logits_indices]); _dummy_sampler_run
# computes the logits of those rows in the model's dtype and samples them with
# InputBatch.make_dummy's sampling states: temperature 0, top-k the vocabulary, top-p 1, no
# penalty. Up to 0.26 Sampler.apply_sampling_params copies the logits to FP32 first (l_s = 4);
# from 0.27.1 Sampler._requires_logits_processing is false for these states (no copy, l_s = 0).
# No top-k/top-p pass runs; gumbel_sample (sample/gumbel.py) adds an int64 and an FP32 value
# per row and block of 1,024 logits.
_GUMBEL_BLOCK = 1024
# From 0.33.0 _dummy_sampler_run samples the same logits a second time with
# SamplingParams.for_sampler_warmup() for every row (top-k 50, top-p 0.9, min-p, penalties,
# logit bias, bad words, logprobs): Sampler.apply_sampling_params copies the logits to FP32
# (sample/sampler.py), the processing runs in place, and the fused sampler takes top-k and
# top-p: FlashInfer's top_k_top_p_sampling_from_logits (v1/sample/ops/topk_topp_sampler.py
# flashinfer_sample, where flashinfer_sampler_supported(): CUDA, compute capability 8.0 to
# 12.1, more than 16 SMs; flashinfer-python is in requirements/cuda.txt) holds a masked FP32
# copy and FP32 probabilities beside the FP32 logits; elsewhere apply_top_k_top_p_triton masks
# the FP32 copy in place with its cached buffer of n_tk vocabulary rows, then Gumbel samples.
c_sw = sym(
    "c_sw",
    r"c_{\mathrm{warm}}",
    "1 when the second runner's dummy sampler run also samples with every sampling feature "
    "on (vLLM 0.33.0 and later), else 0",
    integer=True,
)
c_fs = sym(
    "c_fs",
    r"c_{\mathrm{FI}}",
    "1 when vLLM samples top-k/top-p with FlashInfer on the GPU (CUDA, compute capability 8.0 "
    "to 12.1, more than 16 SMs), 0 when with its Triton kernel",
    integer=True,
)
_gumbel = N_s * CeilDiv(V, _GUMBEL_BLOCK) * (8 + 4)
define(
    "engine_v2_sampler_run",
    r"M_{\mathrm{samp},2}",
    c_h * (T_b + N_s) * h * b_a
    + sp.Symbol("sampler_logits")
    + sp.Max(
        _gumbel,
        c_sw * (c_fs * 12 * N_s * V + (1 - c_fs) * (4 * N_s * V + 4 * n_tk * V + _gumbel)),
    )
    + M_blas,
    "memory the second model runner's dummy sampler run holds: the forward pass's hidden "
    "states and the rows gathered from them, their logits (and an FP32 copy where the "
    "release makes one), the Gumbel sampler's per-block maxima and indices, or, in the "
    "feature-laden second pass (c_warm = 1), an FP32 copy of the logits with FlashInfer's "
    "masked logits and probabilities or the Triton kernel's buffer and the Gumbel sampler's, "
    "and the cuBLAS workspace",
)
define(
    "engine_runner_sampler",
    r"M_{\mathrm{samp},r}",
    (1 - c_v2) * sp.Symbol("engine_sampler_run") + c_v2 * sp.Symbol("engine_v2_sampler_run"),
    "the dummy sampler run of the model runner the engine runs",
)
# A first start's torch.compile (vllm/compilation/decorators.py, 0.22 to 0.29): the first call
# of the @support_torch_compile model is the profiling run's forward pass; without an AOT
# artifact under VLLM_CACHE_ROOT it runs aot_compile (Dynamo, then Inductor over the piecewise
# graphs: compilation/backends.py, piecewise_backend.py) and the forward pass after it, and
# nothing resets the allocator's peak in between, so what the compile held on the device counts
# as the profile's peak (memory_profiling's transient peak). A start that loads the artifact
# compiles nothing. What the compile allocates is not read from vLLM's or PyTorch's code: the
# term is fitted on printed launches (data/serving.json's compile_transient), a
# coefficient per hidden unit, because the launches measured grow with the hidden size and not
# with max_num_batched_tokens. Every launch measured has Qwen's vocabulary (151,936 tokens), so
# the vocabulary times the hidden size (the LM head's size) fits them as well; a launch of a
# model with another vocabulary would tell the two apart. The first runner's fitted terms hold
# whatever compile state their launches had, so the term is the second runner's only.
c_cc = sym(
    "c_cc",
    r"c_{\mathrm{cold}}",
    "1 when the engine compiles the model inside its memory profile (a first start, without a "
    "torch.compile cache), 0 when it loads the compiled model from the cache or does not "
    "compile",
    integer=True,
)
k_tc = sym(
    "k_tc",
    r"\kappa_{\mathrm{tc}}",
    "bytes a first torch.compile leaves in the profiled peak per unit of the hidden size "
    "(fitted, not counted)",
    integer=True,
)
define(
    "engine_compile_transient",
    r"M_{\mathrm{tc}}",
    c_v2 * c_cc * k_tc * h,
    "what a first torch.compile inside the second runner's memory profile adds to its peak: "
    "a fitted coefficient times the hidden size, on a first start only",
)
# Buffers a model runner creates after the start-up memory snapshot (gpu_worker.init_device
# takes it before the runner is built). From 0.27.1 the budget counts them
# (memory_profiling's total_consumed since the snapshot, vllm/utils/mem_utils.py); up to 0.26
# the profile counts only its own peak above what is allocated when it starts.
# The second runner's (load_model builds the Sampler and the StructuredOutputsWorker):
# PenaltiesState (sample/penalties.py) keeps an int32 count of every vocabulary token for
# each request slot (output_bin_counts) and a bit per token of the prompt (prompt_bin_mask,
# int32 words), StructuredOutputsWorker (structured_outputs.py) an int32 bitmask word per 32
# tokens for each logit row (max_num_reqs x decode_query_len, the draft tokens and one); its
# request state lives in host memory. The first runner's (gpu_model_runner.py __init__):
# inputs_embeds, a [max_num_batched_tokens, hidden] buffer in the model's dtype for every
# model, beside int32/int64 token buffers of a few bytes a token (left out). The second
# runner's for a model that takes multimodal inputs (c_mm): its EncoderRunner's inputs_embeds
# (v1/worker/gpu/mm/encoder_runner.py, built by model_states/interface.py where the runner
# has an encoder cache, i.e. MULTIMODAL_REGISTRY.supports_multimodal_inputs; 0.22 to 0.33).
# An MTP drafter's (v1/spec_decode/llm_base_proposer.py, built in the first runner's
# __init__): hidden_states and inputs_embeds, [max_num_batched_tokens, hidden] each; the
# second runner's speculator (v1/worker/gpu/spec_decode/autoregressive/speculator.py 0.27.1
# to 0.31, target_dependent_ar/speculator.py from 0.32) keeps the hidden states, and the
# input embeddings where the target takes multimodal inputs and the drafter takes
# multimodal embeddings (Qwen3_5MTP is SupportsMultiModal; 0.27.1 asks the registry of the
# draft's config, the target's for MTP).
_WORDS = CeilDiv(V, 32)
define(
    "engine_runner_buffers",
    r"M_{\mathrm{buf}}",
    c_rb
    * (
        c_v2 * c_pl * N_q * 4 * (V + (2 + n_sd) * _WORDS)
        + ((1 - c_v2 + c_v2 * c_mm) + sp.Min(n_sd, 1) * (2 - c_v2 + c_v2 * c_mm)) * T_b * h * b_a
        + c_v2 * sp.Symbol("engine_stage_intermediate")
    ),
    "the model runner's buffers the budget counts: the second runner's per request slot (on "
    "the last pipeline stage), an int32 count of every vocabulary token, and an int32 word per "
    "32 tokens for the prompt's mask and for the grammar bitmask of each logit row (1 + n_sd a "
    "request), and its buffers for what a later pipeline stage receives; the input "
    "embeddings for T_b tokens (the first runner's for every model, the second's where it "
    "takes multimodal inputs, c_mm = 1); an MTP drafter's hidden states and input "
    "embeddings for T_b tokens (the second runner's speculator its input embeddings only "
    "where c_mm = 1)",
)
# vLLM's fused-MoE experts (TritonExperts.workspace_shapes in fused_moe/experts/triton_moe.py,
# FusedMoEModularKernel in modular_kernel.py): for M tokens sent to k_e experts each (all
# the tokens at once from 0.19.0 to 0.33.0, whose _fused_experts passes M_full as the chunk;
# at most VLLM_FUSED_MOE_CHUNK_SIZE, 32,768 by default, where a release chunks: the row's
# fused_moe_chunk_tokens), with N = w1's rows (gate and up, 2 f_e / N_tp on one GPU)
# and K = h, workspace13 holds M k_e max(N / 2, K) elements (the activated product, and the
# layer's M K output in the same storage) and workspace2 M k_e max(N, K) (the first GEMM's
# output, then the second's), in the activation dtype. Both come from the worker's
# WorkspaceManager (v1/worker/workspace.py): one buffer grown to the largest request and kept,
# so it is still allocated while the sampler runs after the forward pass.
# moe_align_block_size's int32 index buffers (about M k_e entries) are left out.
define(
    "fused_moe_workspace",
    r"M_{\mathrm{moe}}",
    sp.Piecewise((T_b, T_mc <= 0), (sp.Min(T_b, T_mc), True))
    * k_e
    * b_a
    * (sp.Max(f_e / N_tp, h) + sp.Max(2 * f_e / N_tp, h)),
    "the engine's fused-MoE workspace for the forward pass's T_b tokens (at most a chunk of "
    "T_mc where the engine chunks, T_mc > 0): the expert GEMMs' "
    "outputs and the activated product for every token and expert it is sent to (0 if dense), "
    "kept from the forward pass on",
)
# vLLM's dummy runs (the profiling run's forward pass, the piecewise CUDA-graph captures) build
# no attention metadata, so a gated DeltaNet layer's core, its convolution and chunked delta
# rule, returns without running (GatedDeltaNetAttention._forward_core, "V1 profile run", in
# vllm/model_executor/layers/mamba/gdn_linear_attn.py from 0.19.0, mamba/gdn/ from 0.27; it
# only warms its kernels up on 64 tokens). What the layer holds at its peak, the gated norm,
# is its own: the input projections' output (queries, keys and values, c_r channels, and the
# output gate), beta and decay with their contiguous copies, the zeroed core output, the
# gate's contiguous copy and the norm's output, in the activations' dtype (Qwen3.5's layout;
# Qwen3-Next's interleaved one also concatenates the queries, keys and values).
define(
    "engine_deltanet_workspace",
    r"\omega_{\Delta,\mathrm{eng}}",
    sp.Piecewise((b_a * (c_r + 4 * n_g * d_gv + 4 * n_g), n_g > 0), (0, True)),
    "bytes a token of a gated DeltaNet layer's working set in the engine's dummy runs, "
    "whose core does not run: projections, gates and the norm's output",
)
# The routed experts of a MoE layer under the engine's fused-MoE kernel (c_moe = 1; vLLM
# 0.19 to 0.33: FusedMoEModularKernel._fused_experts in fused_moe/modular_kernel.py, whose
# _allocate_buffers takes workspace13, workspace2 and the experts' output from the worker's
# WorkspaceManager for all the tokens at once, no chunk) keep their per-expert intermediates,
# the first GEMM's output, the activated product and the second GEMM's output, in that
# workspace (fused_moe_workspace), not as tensors of their own: the engine's working set has
# no per-expert copies of the hidden state (transformers' routed copies, i_r) and no MLP
# temporaries of the routed experts. A MoE layer keeps those of its shared experts (n_s f_s,
# an ordinary gated MLP beside the kernel) and a model's dense layers those of their MLP
# (f_x, where L_d > 0). Left out: the kernel's int32 routing indices (moe_align_block_size,
# about 4 k_e bytes a token) and, under FP8, the quantized copies of its inputs (h and k_e f_e
# / N_tp bytes a token).
define(
    "engine_mlp_width",
    r"f_{\mathrm{eng}}",
    (1 - c_moe) * f + c_moe * sp.Max(f - k_e * f_e, sp.Min(L_d, 1) * f_x),
    "MLP width whose temporaries the engine's forward pass holds: the model's, less the "
    "routed experts' where the fused-MoE workspace holds them (c_moe = 1), at least a dense "
    "layer's",
)
define(
    "engine_prefill_workspace",
    r"M_{P,\mathrm{eng}}",
    FORMULAS["prefill_workspace"].rhs.subs(
        {
            sp.Symbol("deltanet_workspace"): sp.Symbol("engine_deltanet_workspace"),
            i_r: (1 - c_moe) * i_r,
            f: sp.Symbol("engine_mlp_width"),
        }
    ),
    "tensors live inside one layer in the engine's dummy forward pass: the prefill working "
    "set with a gated DeltaNet layer's as the engine runs it, and the routed experts' "
    "intermediates in the fused-MoE workspace where the engine keeps one (c_moe = 1)",
)
M_Pe = sp.Symbol("engine_prefill_workspace")
# gpu_model_runner.profile_run (vLLM 0.19 to 0.29): a vision-language model's encoder runs
# first on its dummy batch (gpumem.symbolic.encoder); its working set is freed, its outputs
# stay in the encoder cache, and the dummy pixel values stay referenced, until the language
# model's dummy pass and the sampler have run.
# Speculative decoding with an MTP drafter (vLLM 0.24 to 0.29: v1/spec_decode/
# llm_base_proposer.py dummy_run, called at the end of the first runner's _dummy_run; the
# second runner's _dummy_run, v1/worker/gpu/model_runner.py, proposes the same way): the dummy
# forward pass ends with the drafter's dummy run over the same T_b tokens while the runner
# still holds the target's output hidden states (T_b rows). The drafter's layer is a
# full-attention layer of the model, whose working set the forward pass's already bounds. The
# proposer's own buffers (hidden states and input embeddings, 2 T_b h in the model's dtype:
# 160 MiB for Qwen3.6-27B at 8,192 tokens) are allocated with the runner, before the profiling
# run's baseline, so that 0.20 to 0.26 count them nowhere (as the runner's own); from 0.27.1
# the budget counts them with the runner's (engine_runner_buffers).
define(
    "engine_profile_peak",
    r"M_{\mathrm{prof}}",
    sp.Symbol("encoder_pixels")
    + sp.Max(
        sp.Symbol("encoder_workspace"),
        sp.Symbol("encoder_outputs")
        + sp.Max(M_Pe + sp.Min(n_sd, 1) * T_b * h * b_a, c_pl * sp.Symbol("engine_runner_sampler"))
        + c_moe * sp.Symbol("fused_moe_workspace"),
    )
    + sp.Symbol("engine_compile_transient")
    + (1 - c_v2) * sp.Symbol("engine_stage_intermediate"),
    "peak of the engine's dummy run: the vision encoder over its dummy batch (0 without one), "
    "then, beside its outputs, a forward pass over T_b tokens (the engine's working set at "
    "B s = T_b; with an MTP drafter, its pass beside the target's output hidden states) and "
    "the sampler over N_s sequences (on the last pipeline stage), both beside the fused-MoE "
    "workspace of a MoE model where the engine keeps it (c_moe = 1); the dummy pixel values "
    "throughout; on a first start of the second runner, what its torch.compile left in the "
    "peak; the first runner's buffers for what a later pipeline stage receives",
)
# PyTorch's caching allocator (c10/cuda/CUDACachingAllocator.cpp get_allocation_size and
# should_split, constants in c10/core/AllocatorConfig.h): a tensor of 10 MiB or more gets a new
# segment rounded up to 2 MiB, and the rest of that segment stays with the tensor, counted as
# allocated, unless it is over 1 MiB. vLLM creates the weights one tensor after the other while
# it loads a model, so each large weight tensor keeps that rest.
_MIB = 2**20


def _allocator_rounding(tensor: sp.Expr) -> sp.Expr:
    """Bytes the caching allocator keeps beside a new tensor of ``tensor`` bytes."""
    segment = 2 * _MIB * CeilDiv(tensor, 2 * _MIB)
    return sp.Piecewise(
        (segment - tensor, (tensor >= 10 * _MIB) & (segment - tensor <= _MIB)), (0, True)
    )


_SECOND = dict(zip(SHIPPED_FLAGS, SECOND_FLAGS, strict=True))


def _format(flag: sp.Symbol) -> sp.Expr:
    """Bytes per weight of a part the checkpoint may ship quantized (``flag`` 1 or 0, and its
    flag of the second format)."""
    return b_w + flag * (b_q - b_w) + _SECOND[flag] * (b_q2 - b_w)


# One GPU's weight tensors as vLLM builds them: the fused QKV and output projections of an
# attention layer (its keys and values those of the KV cache, e_kv per token), the fused
# gate-and-up and down projections of a dense MLP, of the shared experts and of all routed
# experts together (FusedMoE's w13 and w2), the token embedding and LM head with the
# vocabulary padded to a multiple of 64 (VocabParallelEmbedding). MLA's projections and
# recurrent layers are left out.
_queries = FloorDiv(n_h, N_tp) * d_h
_attention = _allocator_rounding((_queries + e_kv) * h * _format(q_a))
_attention += _allocator_rounding(_queries * h * _format(q_a))


def _mlp(width: sp.Expr, flag: sp.Symbol, copies: sp.Expr = 1) -> sp.Expr:
    """Allocator rounding of an MLP's fused gate-and-up and down projections."""
    inner = FloorDiv(width, N_tp) * h * copies * _format(flag)
    return _allocator_rounding((m_g - 1) * inner) + _allocator_rounding(inner)


c_hu = sym(
    "c_hu",
    r"c_{\mathrm{head}}",
    "1 when the engine keeps the LM head in the model's dtype under the weight format "
    "(vLLM's FP8 method quantizes linear layers only), else 0",
    integer=True,
)
# vLLM's quantization methods (Fp8Config, ModelOptNvFp4Config, AWQ, GPTQ ...: get_quant_method
# in vllm/model_executor/layers/quantization/) quantize linear layers and experts; the token
# embedding (VocabParallelEmbedding) keeps the model's dtype under every one of them, the LM
# head (ParallelLMHead) under FP8 and where a checkpoint excludes it.
_padded_vocabulary = 64 * CeilDiv(V, 64)
_rows = FloorDiv(_padded_vocabulary, N_tp) * h


def _vocabulary_matrix(held: sp.Expr, counted: sp.Expr = b_w) -> sp.Expr:
    """What one padded vocabulary matrix of ``held`` bytes a value holds beyond what the
    weights formula counts for it (``counted`` bytes a value), rounding included."""
    return _allocator_rounding(_rows * held) + _rows * held - V * h * counted / N_tp


# an LM head the checkpoint ships quantized (ModelOpt, from vLLM 0.24) is counted in its format
_head = b_w + x_s * q_h * (b_q - b_w) + x_s * _SECOND[q_h] * (b_q2 - b_w)


g_m = sym(
    "g_m",
    r"g_{\mathrm{M}}",
    "input columns that share one of the scales Marlin's weight-only kernels keep for FP8 "
    "weights (the block's 128 for 128 x 128 blocks), 0 where the engine does not run the "
    "weights through Marlin",
    integer=True,
)
# vLLM runs FP8 linear layers and experts through Marlin's weight-only kernels on GPUs without
# FP8 tensor cores (MarlinFP8ScaledMMLinearKernel in
# vllm/model_executor/kernels/linear/scaled_mm/marlin.py, the fused-MoE oracle's MARLIN
# backend; prepare_fp8_layer_for_marlin and prepare_fp8_moe_layer_for_marlin in
# layers/quantization/utils/marlin_utils_fp8.py). Repacking keeps one byte a weight (int32
# words of four FP8 values) and frees the checkpoint's weight; a block-scaled checkpoint's FP32
# scales, one per 128 x 128 block, become one scale in the model's dtype per output channel and
# group of g_m input columns (repeated over the block's 128 rows), which the kernel reads. A
# GPU's FP8 weights: the shipped format's modules as shipped, else every linear layer but the
# LM head (the modules Fp8Config quantizes), in the format's bytes a weight, scales included.
_linear = FORMULAS["shipped_parameters"].rhs.subs(
    {x_s: 1, q_a: 1, q_m: 1, q_e: 1, q_s: 1, q_r: 1, q_b: 1, q_o: 1, q_v: 1, q_h: 0}
)
_fp8_weights = x_s * P_q + (1 - x_s) * _linear * L_s / L
_fp8_bytes = x_s * b_q + (1 - x_s) * b_w
_marlin = sp.Piecewise((_fp8_weights / N_tp * (b_a / g_m + 1 - _fp8_bytes), g_m > 0), (0, True))


# A MoE layer's router (hidden -> routed experts) is a ReplicatedLinear, or its subclass
# GateLinear (fused_moe/router/gate_linear.py), in every MoE model of vLLM (mixtral.py,
# qwen2_moe.py, qwen3_moe.py, qwen3_next.py, deepseek_v2.py, gpt_oss.py; 0.19.0 to 0.33.0):
# whole on every GPU, under expert parallelism too, each pipeline stage holding its own
# layers'. It keeps the model's dtype: built without a quant config, or (qwen3_moe.py) with the
# checkpoint's, whose FP8 and ModelOpt releases leave every mlp.gate unquantized. The weights
# formula splits it over the GPUs in the weight format; this is the rest. Left out: gpt-oss's
# router bias and DeepSeek's FP32 score correction (n_e values a layer), and qwen3_moe's gate
# under --quantization fp8 of a 16-bit checkpoint (quantized, one byte a weight).
_router = sp.Min(L_s, L_e) * h * n_e * (b_a - b_w / N_tp)

define(
    "engine_load_extra",
    r"M_{W,\mathrm{load}}",
    c_al
    * (
        (
            (L - L_r - L_n) * sp.Piecewise((0, c_kv > 0), (_attention, True))
            + L_d * _mlp(f_x, q_m)
            + L_e * (_mlp(f_e, q_e, n_e) + _mlp(n_s * f_s, q_s))
        )
        * L_s
        / L
        + sp.Max(c_pf, t_w * c_pl) * _vocabulary_matrix(b_a)
        + c_pl * (1 - t_w) * _vocabulary_matrix(_head + c_hu * (b_a - _head), _head)
        + s_p * sp.Piecewise((d_r, c_kv > 0), (d_h, True)) * b_a
        + _marlin
        + _router
    ),
    "what the engine's weights hold beyond their bytes once loaded: the allocator's rounding "
    "of each large weight tensor, the padded rows of the vocabulary, the token embedding (and "
    "where c_hu = 1 the LM head) in the model's dtype under a quantized weight format, and "
    "the rotary embedding's cos/sin cache, and where the engine runs FP8 weights through "
    "Marlin (g_m > 0) their scales per group of g_m input columns in place of the format's, "
    "and each MoE layer's router whole on every GPU in the model's dtype (where the engine "
    "counts them, c_al = 1)",
)
# The multi-token-prediction module vLLM loads as the drafter with the target (method 'mtp':
# Qwen3_5MTP in vllm/model_executor/models/qwen3_5_mtp.py, Qwen3NextMTP, DeepSeekMTP; 0.24 to
# 0.29): mtp_num_hidden_layers (num_nextn_predict_layers) decoder layers with full attention and
# the model's MLP or MoE block, and a 2h -> h projection of the token's embedding and the
# target's hidden state (fc, eh_proj), split over the tensor-parallel GPUs. Its own token
# embedding and LM head are built, then replaced by the target's (the proposer's
# _maybe_share_embeddings and _maybe_share_lm_head, for every MTP model without pipeline
# parallelism): they are freed before "Model loading took" is measured. Its norms and a MoE
# block's router (under 0.01 % of the module) are left out.
c_mq = sym(
    "c_mq",
    r"c_{\mathrm{MTP}}",
    "1 when a checkpoint shipped quantized holds its multi-token-prediction layers in the "
    "formats of the model's layers, 0 when unquantized (ModelOpt MIXED_PRECISION lists no "
    "module of theirs)",
    integer=True,
)


def _mtp_format(flag: sp.Symbol) -> sp.Expr:
    """Bytes per weight of an MTP layer's module whose counterpart in the model's layers the
    checkpoint ships as ``flag`` says."""
    return b_w + x_s * c_mq * (flag * (b_q - b_w) + _SECOND[flag] * (b_q2 - b_w))


def _mtp_layer(fmt) -> sp.Expr:
    """One MTP decoder layer's weight matrices, each module times ``fmt(its flag)``."""
    return FORMULAS["attention_weights"].rhs * fmt(q_a) + m_g * h * sp.Piecewise(
        (n_e * f_e * fmt(q_e) + n_s * f_s * fmt(q_s), L_e > 0), (f_x * fmt(q_m), True)
    )


define(
    "mtp_parameters",
    r"P_{\mathrm{MTP}}",
    L_m * _mtp_layer(lambda flag: 1) + sp.Min(L_m, 1) * 2 * h * h,
    "weight-matrix parameters of the multi-token-prediction module the engine loads: L_m "
    "full-attention layers with the model's MLP (or MoE block) and the projection of the "
    "embedding and the hidden state",
)
# Its bytes: an online format (--quantization fp8 of a 16-bit checkpoint: Fp8Config quantizes
# every linear layer) covers it all; a checkpoint shipped quantized holds its layers in the
# formats of the model's (Qwen's FP8 releases exclude only the projection fc and the norms,
# mtp.fc in modules_to_not_convert; DeepSeek-V3's FP8 blocks cover its layer 61) and the
# projection in the dtype (Qwen3.5's fc stays unquantized under NVFP4). Left out: the FP8 block
# scales (1/4,096 of a weight's bytes) and the per-channel scales Marlin keeps for them on GPUs
# without FP8 tensor cores (1/64 of a weight: 6 MiB for Qwen3.8-27B's module).
# Qwen's projection fc is a ColumnParallelLinear (qwen3_5_mtp.py, qwen3_next_mtp.py), split
# over the GPUs; DeepSeek's eh_proj is a plain nn.Linear (deepseek_mtp.py, 0.27.1 and 0.29.0),
# which vLLM neither splits nor quantizes (no quant config; Fp8Config quantizes LinearBase
# layers only): 2 h^2 in the model's dtype on every GPU (205,520,896 bytes for DeepSeek-V3).
c_ep = sym(
    "c_ep",
    r"c_{\mathrm{eh}}",
    "1 when the multi-token-prediction module's projection is a plain linear layer, whole on "
    "every GPU and in the model's dtype (DeepSeek's eh_proj), 0 when split over the "
    "tensor-parallel GPUs in the weight format (Qwen's fc)",
    integer=True,
)
define(
    "mtp_weights",
    r"M_{W,\mathrm{MTP}}",
    (L_m * _mtp_layer(_mtp_format) + (1 - c_ep) * sp.Min(L_m, 1) * 2 * h * h * b_w) / N_tp
    + c_ep * sp.Min(L_m, 1) * 2 * h * h * b_a,
    "one GPU's share of the multi-token-prediction module's weights: its layers in the weight "
    "format (as shipped: in the formats of the model's layers where c_MTP = 1, else in the "
    "dtype) and the projection, split in the weight format or (c_eh = 1) whole in the dtype",
)
# --- CUDA graphs: vLLM's estimate of their memory ---------------------------------------------
# vLLM 0.18 and later estimate, before sizing the KV cache, the memory of the CUDA graphs they
# capture afterwards (gpu_model_runner.profile_cudagraph_memory; subtracted from the cache
# from 0.20.0, though its log says "default since v0.21.0"). For each mode they capture the
# two largest batch sizes in a throwaway pool and measure the device's free memory around each
# capture: the estimate is the larger of the modes' first captures plus, for each mode,
# (graphs - 1) times its second capture, at least 1 MiB each.
# The sizes come from config/vllm.py _set_cudagraph_sizes: 1, 2, 4, then every 8 below 256,
# then every 16, up to the ceiling min(max_num_batched_tokens, 2 max_num_seqs, 512 (1024 on
# data-centre Blackwell from 0.28)); from 0.20.2 max_num_batched_tokens itself is appended when
# it is under the ceiling and off that grid. FULL_AND_PIECEWISE (the default) captures a
# PIECEWISE graph set for every size and a FULL graph for every size up to max_num_seqs
# (cudagraph_dispatcher.initialize_cudagraph_keys). A piecewise set splits the model at every
# op of CompilationConfig._attention_ops (config/compilation.py), which names the recurrent
# layers' ops too (mamba mixers, Qwen's gated DeltaNet core), so a hybrid's set has a graph
# for every layer and one more, as a transformer's does: the graphs' memory stays per layer.
# Only a FULL capture builds the attention metadata (_dummy_run with force_attention), so the
# first FULL capture is where FlashInfer's metadata builder allocates its workspaces.
T_gm = sym(
    "T_gm",
    r"T_{g,\max}",
    "the engine's default ceiling on CUDA-graph batch sizes (tokens)",
    integer=True,
)
n_sp = sym(
    "n_sp",
    r"n_{\mathrm{split}}",
    "split-KV partitions FlashAttention 3 may use in a FULL CUDA graph (0 where the attention "
    "kernel keeps no split accumulators)",
    integer=True,
)
beta_g = sym(
    "beta_g",
    r"\beta_g",
    "CUDA-graph memory of one captured batch size per layer of the GPU's stage (driver memory "
    "of the graphs' kernels; fitted)",
)
M_g0 = sym(
    "M_g0",
    r"M_{g,0}",
    "memory the first piecewise capture holds beyond its activations and graphs (fitted)",
)
M_fi = sym(
    "M_fi",
    r"M_{\mathrm{FI}}",
    "FlashInfer's workspaces the first FULL CUDA-graph capture allocates (0 where the engine "
    "runs another attention kernel)",
    integer=True,
)
M_Pg = sym(
    "M_Pg",
    r"M_{P,g}",
    "working set of a forward pass over the largest CUDA-graph batch "
    "(engine_prefill_workspace at B s = that batch)",
)
_MIN_GRAPH = 2**20  # vLLM counts at least 1 MiB per graph


def _on_grid(x: sp.Expr) -> sp.Expr:
    """Batch sizes of vLLM's capture grid up to ``x`` (1, 2, 4, every 8 below 256, every 16)."""
    return (
        1
        + sp.Piecewise((1, x >= 2), (0, True))
        + sp.Piecewise((1, x >= 4), (0, True))
        + sp.Min(FloorDiv(x, 8), 31)
        + sp.Max(FloorDiv(x, 16) - 15, 0)
    )


def _grid_top(x: sp.Expr) -> sp.Expr:
    """The largest batch size of vLLM's capture grid up to ``x``."""
    return sp.Piecewise(
        (16 * FloorDiv(x, 16), x >= 256),
        (8 * FloorDiv(x, 8), x >= 8),
        (4, x >= 4),
        (2, x >= 2),
        (1, True),
    )


define(
    "cudagraph_ceiling",
    r"T_{g,c}",
    sp.Piecewise((2 * N_s * (1 + n_sd), 2 * N_s * (1 + n_sd) <= T_gm), (T_gm, True)),
    "the CUDA-graph batch ceiling before max_num_batched_tokens: twice max_num_seqs times the "
    "tokens a decode step verifies (1 + n_spec), or the engine's ceiling, whichever is less",
)
_ceiling = sp.Symbol("cudagraph_ceiling")
define(
    "cudagraph_max_size",
    r"T_{g}",
    sp.Min(T_b, _ceiling),
    "the largest CUDA-graph batch (tokens): max_num_batched_tokens or the ceiling, whichever "
    "is less",
)
T_g = sp.Symbol("cudagraph_max_size")
define(
    "cudagraph_off_grid",
    r"a_g",
    sp.Piecewise((sp.Min(T_b - _grid_top(T_b), 1), T_b <= _ceiling), (0, True)),
    "1 when max_num_batched_tokens is the largest CUDA-graph batch and off the grid, so that "
    "vLLM adds it to the sizes (from 0.20.2), else 0",
)
_appended = sp.Symbol("cudagraph_off_grid")
# From 0.31.0 _set_cudagraph_sizes also adds max_num_seqs (the widest one-token decode batch)
# when it is under the engine's ceiling and max_num_batched_tokens, without speculative
# decoding (config/vllm.py: uniform_decode_sizes = [max_num_seqs]); off the grid it is one
# size more, a piecewise set and a FULL graph, and the largest FULL batch.
c_sq = sym(
    "c_sq",
    r"c_{g,\mathrm{seq}}",
    "1 when the engine adds max_num_seqs to its CUDA-graph batch sizes (vLLM 0.31.0 and "
    "later), else 0",
    integer=True,
)
define(
    "cudagraph_seqs_off_grid",
    r"a_{g,\mathrm{seq}}",
    sp.Piecewise(
        (
            sp.Min(N_s - _grid_top(N_s), 1),
            (c_sq > 0) & (n_sd <= 0) & (N_s <= T_gm) & (N_s < T_b),
        ),
        (0, True),
    ),
    "1 when the engine adds max_num_seqs to the CUDA-graph batch sizes and it is off the grid "
    "(and not max_num_batched_tokens, added already), else 0",
)
_seqs = sp.Symbol("cudagraph_seqs_off_grid")
# With draft tokens a uniform decode batch is 1 + n_spec tokens a request, and the FULL decode
# graphs are sized in whole requests: the second runner rounds each capture size up to a
# multiple of 1 + n_spec and keeps each rounded size once, up to max_num_seqs requests and the
# largest size (v1/worker/gpu/cudagraph_utils.py CudaGraphManager._init_candidates, round_up,
# "avoid duplicate graphs"; 0.29.0 to 0.33.0); the first runner, where FULL decode graphs are
# on, rounds every capture size so (config/compilation.py adjust_cudagraph_sizes_for_spec_decode:
# the sorted set of round_up(size, 1 + n_spec) up to the largest size; called from
# gpu_model_runner.py in 0.19.0, from resolve_cudagraph_mode_and_sizes from 0.20.0 to 0.33.0),
# piecewise ones too, and its dispatcher captures a FULL graph for each up to max_num_seqs
# requests (cudagraph_dispatcher.initialize_cudagraph_keys).
_q = 1 + n_sd


def _rounded(x: sp.Expr) -> sp.Expr:
    """The largest multiple of 1 + n_spec up to ``x``: a capture size rounds up to ``x`` or
    less exactly when it is at most this."""
    return _q * FloorDiv(x, _q)


def _above(size: sp.Expr, below: sp.Expr) -> sp.Expr:
    """1 when the capture size ``size`` rounds up to a larger multiple of 1 + n_spec than the
    smaller size ``below``, else 0."""
    return sp.Min(CeilDiv(size, _q) - CeilDiv(below, _q), 1)


def _distinct(sizes: sp.Expr, span: sp.Expr) -> sp.Expr:
    """Distinct multiples of 1 + n_spec that a run of ``sizes`` capture sizes rounds up to,
    less its first: its sizes less one, or ``span`` (how many multiples its last rounds above
    its first) where fewer."""
    return sizes - 1 - sp.Max(sizes - 1 - span, 0)


def _on_rounded_grid(x: sp.Expr) -> sp.Expr:
    """Batch sizes of vLLM's capture grid (and max_num_batched_tokens where it is appended),
    each rounded up to a multiple of 1 + n_spec, that are distinct and at most ``x``. A run of
    the grid with step d from a to b rounds to min(its sizes, ceil(b / q) - ceil(a / q) + 1)
    distinct multiples of q = 1 + n_spec; the first of a run is new where it rounds above the
    run before it. Without draft tokens (q = 1), the grid up to ``x``."""
    y = _rounded(x)
    runs = sp.Min(FloorDiv(y, 8), 31)  # 8, 16, ..., 248
    tops = FloorDiv(y, 16) - 15  # 256, 272, ...
    return (
        sp.Piecewise((1, y >= 1), (0, True))
        + sp.Piecewise((_above(2, 1), y >= 2), (0, True))
        + sp.Piecewise((_above(4, 2), y >= 4), (0, True))
        + sp.Piecewise(
            (_distinct(runs, CeilDiv(8 * runs, _q) - CeilDiv(8, _q)) + _above(8, 4), y >= 8),
            (0, True),
        )
        + sp.Piecewise(
            (
                _distinct(tops, CeilDiv(16 * FloorDiv(y, 16), _q) - CeilDiv(256, _q))
                + _above(256, 248),
                y >= 256,
            ),
            (0, True),
        )
        + _appended * sp.Piecewise((_above(T_b, _grid_top(T_b)), T_b <= y), (0, True))
    )


c_fg = sym(
    "c_fg",
    r"c_{\mathrm{full}}",
    "1 when the engine captures FULL CUDA graphs, 0 when piecewise ones only (speculative "
    "decoding with an attention backend whose FULL graphs hold one-token decodes only)",
    integer=True,
)
#: the first runner rounds its piecewise sizes too: FULL decode graphs with draft tokens
_rounds_all = (c_fg > 0) & (c_v2 < 1) & (n_sd > 0)
# From 0.29.0 _set_cudagraph_sizes also adds the uniform decode batches with draft tokens
# (config/vllm.py: uniform_decode_sizes = n (1 + n_spec) for n on request_counts, the capture
# grid of request counts up to min(max_num_seqs, the platform ceiling) and that count itself,
# where under the ceiling and max_num_batched_tokens). Those off the token grid are sizes
# more: 1 + n_spec, twice and four times it where they are off it; from 8 requests a multiple
# of 8 below 256 tokens (on the grid) and from 256 tokens an odd multiple of 8 for an odd
# 1 + n_spec (off the grid's multiples of 16); max_num_seqs x (1 + n_spec) where max_num_seqs
# is off the request grid. Rounded up to whole requests (FULL graphs, and the first runner's
# piecewise ones with FULL graphs on) a batch is new where no capture size rounds up to it.
# Where max_num_batched_tokens is appended and one of these too, it is counted twice (not
# followed: a max_num_batched_tokens under 2 max_num_seqs (1 + n_spec)).
c_ud = sym(
    "c_ud",
    r"c_{g,\mathrm{ud}}",
    "1 when the engine adds the uniform decode batches with draft tokens to its CUDA-graph "
    "batch sizes (vLLM 0.29.0 and later), else 0",
    integer=True,
)
_requests = sp.Min(N_s, T_gm)


def _in_grid(v: sp.Expr) -> sp.Expr:
    """1 when the batch size ``v`` is on vLLM's capture grid, else 0."""
    return sp.Piecewise((1, v <= 1), (_on_grid(v) - _on_grid(v - 1), True))


def _covered(v: sp.Expr) -> sp.Expr:
    """1 when a size of the capture grid rounds up to the multiple ``v`` of 1 + n_spec."""
    return sp.Piecewise((1, v <= _q), (sp.Min(_on_grid(v) - _on_grid(v - _q), 1), True))


def _decode_sizes(new: Callable[[sp.Expr], sp.Expr], odd: sp.Expr) -> sp.Expr:
    """Uniform decode batches the engine adds that are sizes more: those of 1, 2 and 4
    requests and of max_num_seqs off the request grid where ``new`` (1 or 0) says so, and
    ``odd`` of those of 8k requests from 256 tokens (an odd 1 + n_spec)."""
    k_low = CeilDiv(32, _q)
    # the 8k requests below 256 (the platform ceiling is at least 512)
    k_high = sp.Min(FloorDiv(sp.Min(N_s, 255), 8), FloorDiv(T_g, 8 * _q))
    odd_k = odd * sp.Piecewise(
        (FloorDiv(k_high + 1, 2) - FloorDiv(k_low, 2), k_high >= k_low), (0, True)
    )
    top = _requests * _q
    return sp.Piecewise(
        (
            sp.Piecewise((new(_q), _q <= T_g), (0, True))
            + sp.Piecewise((new(2 * _q), (_requests >= 2) & (2 * _q <= T_g)), (0, True))
            + sp.Piecewise((new(4 * _q), (_requests >= 4) & (4 * _q <= T_g)), (0, True))
            + odd_k
            + sp.Piecewise((new(top) * (1 - _in_grid(_requests)), top <= T_g), (0, True)),
            (c_ud > 0) & (n_sd > 0),
        ),
        (0, True),
    )


#: 1 for an odd 1 + n_spec
_odd = _q - 2 * FloorDiv(_q, 2)
define(
    "cudagraph_decode_sizes",
    r"a_{g,\mathrm{ud}}",
    _decode_sizes(lambda v: 1 - _in_grid(v), _odd),
    "uniform decode batches with draft tokens the engine adds to its CUDA-graph batch sizes "
    "that are off the grid (from vLLM 0.29.0), else 0",
)
define(
    "cudagraph_decode_sizes_rounded",
    r"a_{g,\mathrm{ud},q}",
    _decode_sizes(lambda v: 1 - _covered(v), _odd * sp.Piecewise((1, _q <= 8), (0, True))),
    "those of the uniform decode batches the engine adds that no capture size rounds up to, "
    "in whole requests of 1 + n_spec tokens (from vLLM 0.29.0), else 0",
)


def _rounded_top(x: sp.Expr) -> sp.Expr:
    """The largest size up to ``x`` in whole requests: of :func:`_on_rounded_grid`'s, and of
    the uniform decode batches the engine adds (``x`` is at least the largest of those under
    the largest CUDA-graph batch)."""
    y = _rounded(x)
    grid = sp.Piecewise((T_b, (_appended > 0) & (T_b <= y)), (_q * CeilDiv(_grid_top(y), _q), True))
    decodes = sp.Piecewise(
        (_requests * _q, _requests * _q <= T_g), (_q * _grid_top(FloorDiv(T_g, _q)), True)
    )
    return sp.Piecewise((sp.Max(grid, decodes), (c_ud > 0) & (n_sd > 0)), (grid, True))


_decode = sp.Symbol("cudagraph_decode_sizes")
_decode_rounded = sp.Symbol("cudagraph_decode_sizes_rounded")
define(
    "cudagraph_piecewise_graphs",
    r"n_{g,\mathrm{pw}}",
    sp.Piecewise(
        (_on_rounded_grid(T_g) + _decode_rounded, _rounds_all),
        (_on_grid(T_g) + _appended + _decode, True),
    )
    + _seqs,
    "batch sizes captured as piecewise CUDA graphs (one set of graphs per size; on the first "
    "runner with FULL graphs and draft tokens, the sizes rounded up to whole requests of "
    "1 + n_spec tokens)",
)
# With an MTP drafter the piecewise captures also capture the drafter's pass (its dummy_run
# with use_cudagraphs in the runner's _dummy_run): one layer more per captured size, which the
# per-layer figure puts at 192 KiB a size (about 1 MiB for the 5 sizes of 2 sequences and 3
# draft tokens) and which is left out.
#: tokens of the largest uniform decode batch: max_num_seqs requests of 1 + n_spec tokens
_decodes = N_s * (1 + n_sd)
define(
    "cudagraph_full_graphs",
    r"n_{g,\mathrm{full}}",
    c_fg * (_on_rounded_grid(sp.Min(T_g, _decodes)) + _decode_rounded + _seqs),
    "batch sizes captured as FULL CUDA graphs (uniform decode batches up to max_num_seqs "
    "requests of 1 + n_spec tokens, the capture sizes rounded up to whole requests; none where "
    "the engine captures piecewise graphs only)",
)
define(
    "cudagraph_capture_tokens",
    r"T_{g,\mathrm{pw}}",
    sp.Piecewise(
        (_rounded_top(T_g), _rounds_all),
        (_grid_top(T_g) + _appended * (T_g - _grid_top(T_g)), True),
    ),
    "tokens of the first (largest) piecewise capture",
)
_full_top = sp.Piecewise((N_s, _seqs > 0), (_rounded_top(sp.Min(T_g, _decodes)), True))
_per_graph = sp.Max(beta_g * L_s, _MIN_GRAPH)


def _split_accumulators(tokens: sp.Expr) -> sp.Expr:
    """FlashAttention 3's FP32 split-KV output and log-sum-exp accumulators for ``tokens``
    query tokens and every query head of the GPU (vLLM's flash_attn.py metadata builder sets
    max_num_splits for batches up to the largest CUDA-graph size where FULL graphs are on; so
    does flashattn_mla.py's for MLA's decode, whose value head is the latent of c_kv)."""
    width = sp.Piecewise((c_kv, c_kv > 0), (d_h, True))
    return n_sp * tokens * FloorDiv(n_h, N_tp) * (width + 1) * 4


define(
    "cudagraph_full_accumulators",
    r"M_{\mathrm{cg,acc}}",
    _split_accumulators(_full_top) + M_fi,
    "what the first FULL capture holds beyond its graphs: FlashAttention 3's FP32 split-KV "
    "output and log-sum-exp accumulators for every query head of the GPU at the largest batch, "
    "or FlashInfer's workspaces, which its metadata builder allocates at its first use",
)
_first_captures = (
    2 * M_Pg + M_g0 + _per_graph,
    c_fg * (sp.Symbol("cudagraph_full_accumulators") + _per_graph),
)
# The second runner's estimate from 0.29 (v1/worker/gpu/cudagraph_utils.py
# profile_cudagraph_memory) runs the runner's capture_model once into a throwaway pool with the
# FULL captures cut to the two largest (_FULL_GRAPH_PROFILING_SAMPLES) and returns what the
# whole capture took (the device's free memory before and after), the two FULL samples
# (free memory around each torch.cuda.graph block) replaced by the first plus (graphs - 1) x
# max(second, 1 MiB). Counted from that code (c_gs = 1):
# - the sizes are the first runner's: CudaGraphManager._init_candidates gives every capture
#   size a PIECEWISE graph set and every uniform decode up to max_num_seqs x decode_query_len
#   a FULL graph; the piecewise sizes are all captured (not extrapolated), so both modes'
#   first captures add where the first runner takes the larger;
# - every size is warmed up eagerly before its capture, inside what is measured: the largest
#   piecewise size's warm-up holds its working set in PyTorch's ordinary pool (empty_cache
#   runs only before the capture), as in the first runner's first sample; the FULL warm-ups
#   run outside the two samples into blocks the piecewise warm-ups left;
# - the FULL captures run on the piecewise captures' stream (stream=current_stream(); 0.27.1
#   and 0.28 captured them on torch's side stream) and pool, so a FULL capture's activations
#   reuse the piecewise graphs' blocks and its first sample holds its graphs, FlashAttention
#   3's accumulators or FlashInfer's workspaces, as the first runner's first FULL sample;
# - unlike the first runner, whose piecewise dummy runs build no attention metadata, the
#   second runner's piecewise warm-ups and captures run attention (prepare_inputs_to_capture
#   builds it for both modes), outside the graphs: where FlashAttention 3 splits the KV
#   (FULL graphs on, n_sp > 0) the largest piecewise batch's accumulators stay in the
#   ordinary pool from its warm-up on (not checked on a printed launch: no 0.29 launch on a
#   GPU that runs FlashAttention 3 prints its estimate).
# Not counted: the memory of a captured size, beta_g per layer, is fitted on the first
# runner's second samples (0.19, H100) and taken as it is; on the one 0.29 launch that prints
# the estimate (Qwen3-14B on an L40S: 0.51 GiB) this formula gives 0.78, which 4.3 MiB a size
# where beta_g L gives 7.5 MiB would bring to the printed figure; one launch fits no figure.
define(
    "cudagraph_piecewise_accumulators",
    r"M_{\mathrm{cg,acc,pw}}",
    c_gs * c_fg * _split_accumulators(sp.Symbol("cudagraph_capture_tokens")),
    "FlashAttention 3's split-KV accumulators of the largest piecewise batch, which the second "
    "runner's piecewise warm-up runs attention on (0 for the first runner, whose piecewise "
    "dummy runs skip attention, and without FULL graphs)",
)
define(
    "cudagraph_estimate",
    r"M_{\mathrm{cg,est}}",
    sp.Max(*_first_captures)
    + c_gs * sp.Min(*_first_captures)
    + (sp.Symbol("cudagraph_piecewise_graphs") + sp.Symbol("cudagraph_full_graphs") - 1 - c_fg)
    * _per_graph
    + sp.Symbol("cudagraph_piecewise_accumulators"),
    "the engine's estimate of its CUDA graphs: the larger first capture (both where c_gs = 1; "
    "piecewise: the "
    "forward pass's working set at the largest batch, once in the warm-up and once in the "
    "graph pool; FULL: FlashAttention 3's FP32 split-KV output and log-sum-exp accumulators "
    "for every query head of the GPU, or FlashInfer's workspaces), each with its own graphs, "
    "plus the graphs of every other size, and on the second runner the largest piecewise "
    "batch's split-KV accumulators",
)
define("serve_budget", r"M_{\mathrm{req}}", u * M_gpu, "memory the engine may use on one GPU")
define(
    "kv_available",
    r"M_{KV,\mathrm{avail}}",
    sp.Symbol("serve_budget")
    - M_W
    - sp.Symbol("engine_load_extra")
    - sp.Symbol("mtp_weights")
    - sp.Symbol("engine_profile_peak")
    - M_nt
    - M_cg
    - sp.Symbol("engine_runner_buffers"),
    "memory left for the KV cache: the budget minus the weights as loaded (with the MTP "
    "drafter's), the profiled peak, memory outside PyTorch, CUDA graphs and the model "
    "runner's sampling buffers",
)
# vLLM's recurrent state (MambaSpec.page_size_bytes, vllm/v1/kv_cache_interface.py; shapes and
# dtypes from the model class, e.g. get_mamba_state_shape_from_config in qwen3_5.py): the
# convolution's kernel - 1 past inputs, and num_speculative_tokens more with speculative
# decoding (MambaStateShapeCalculator, model_executor/layers/mamba/mamba_utils.py, 0.17 to
# 0.29), in mamba_cache_dtype (the model's dtype by default) and
# the temporal state in mamba_ssm_cache_dtype, which Qwen3.5's config sets to its
# mamba_ssm_dtype (float32; Qwen3_5ForConditionalGenerationConfig in
# vllm/model_executor/models/config.py, from 0.17.0), both split over the tensor-parallel GPUs.
define(
    "recurrent_page",
    r"S_{\mathrm{state}}",
    b_a * CeilDiv(e_r - e_t + n_sd * c_r, N_tp) + b_r * CeilDiv(e_t, N_tp),
    "bytes of one recurrent layer's state for one request on one GPU: the convolution's "
    "window (with speculative decoding n_spec more positions of its c_r channels) in the "
    "model's dtype and the temporal state in its own format",
)
define(
    "hybrid_block_size",
    r"s_{b,\mathrm{hybrid}}",
    a_b * CeilDiv(sp.Symbol("recurrent_page"), a_b * e_kv * b_kv),
    "the smallest block size, a multiple of a_b tokens, whose attention page holds a recurrent "
    "layer's state (vLLM pads the state to the attention page)",
)
define("kv_page", r"S_{\mathrm{page}}", s_b * e_kv * b_kv, "bytes of one block of one layer")
S_page = sp.Symbol("kv_page")
define(
    "kv_blocks",
    r"N_{\mathrm{blk}}",
    FloorDiv(sp.Symbol("kv_available"), S_page * L_g),
    "KV-cache blocks: each holds one page for every layer of a group",
)
N_blk = sp.Symbol("kv_blocks")
# MambaSpec.max_memory_usage_bytes (vllm/v1/kv_cache_interface.py, 0.17.0 to 0.29.0): a
# recurrent group holds (1 + num_speculative_blocks) pages a request, (2 + ...) in
# mamba_cache_mode 'align', which MambaModelConfig.verify_and_update_config
# (vllm/model_executor/models/config.py) picks when prefix caching is on for a model without
# 'all' support (gated DeltaNet); num_speculative_blocks is num_speculative_tokens
# (MambaBase.get_kv_cache_spec, model_executor/layers/mamba/abstract.py). From 0.32.0 a
# Mamba-2 mixer (MambaMixer2.get_kv_cache_spec, layers/mamba/mamba_mixer2.py: Nemotron-H,
# Granite 4, Falcon-H1, Zamba2, Mamba-2) declares num_prefill_checkpoint_blocks = 1, one more
# block in 'align' mode (max_memory_usage_bytes: 2 + speculative + checkpoint blocks; c_ckpt).
# An attention group holds every token, draft tokens included, within max_model_len: no more
# blocks.
define(
    "blocks_per_request",
    r"n_{\mathrm{blk}}",
    (n_G - n_gw - n_gc - n_gr) * CeilDiv(s, s_b)
    + n_gw * (CeilDiv(sp.Min(w - 1 + T_b, s), s_b) + 1)
    + n_gc * CeilDiv(sp.Min(w_c + T_b, s), s_b)
    + n_gr * (1 + c_pa * (1 + c_ck) + n_sd),
    "blocks one request of s tokens holds: every token in full-attention groups; the window, "
    "one batch and one more block in sliding-window groups; the chunk and one batch in "
    "chunked-attention groups; one block, its state, in recurrent groups, two with prefix "
    "caching in 'align' mode (three with a prefill checkpoint), and one more for each "
    "speculative token",
)
n_blk = sp.Symbol("blocks_per_request")
c_kt = sym(
    "c_kt",
    r"c_{\mathrm{tok}}",
    "1 when the engine prints its KV-cache size as the concurrency times max_model_len (vLLM "
    "0.20.1 and later), 0 when as blocks per group times the block size",
    integer=True,
)
define(
    "kv_tokens",
    r"N_{\mathrm{tok}}",
    (1 - c_kt) * FloorDiv(N_blk, n_G) * s_b + c_kt * FloorDiv(N_blk * s, n_blk),
    "the 'GPU KV cache size' vLLM prints: blocks per group times the block size, or (from "
    "0.20.1) the requests of s tokens the cache holds times s",
)
define(
    "max_concurrency",
    "X",
    N_blk / n_blk,
    "requests of s tokens the cache holds at once (vLLM's 'Maximum concurrency')",
)
define(
    "kv_memory_for_requests",
    r"M_{KV}(N_{\mathrm{req}})",
    N_r * n_blk * S_page * L_g,
    "KV-cache memory that holds N_req requests of s tokens (a --kv-cache-memory value)",
)
