"""Reading Hugging Face configs into :class:`ModelSpec` and counting parameters by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpumem.errors import ConfigError, InvalidValueError
from gpumem.modelspec import QUANTIZABLE, SUPPORTED_FAMILIES, ModelSpec, from_config

MODELS = Path(__file__).resolve().parents[1] / "gpumem" / "data" / "models"


def config(model_id: str) -> dict:
    return json.loads((MODELS / f"{model_id}.json").read_text())["config"]


def test_gpt2_count_by_hand() -> None:
    # wte 50257*768 + wpe 1024*768 + 12 blocks of 7,087,872 + final LayerNorm 2*768
    # block: 2 LayerNorms 2*1536, c_attn 768*2304+2304, attn c_proj 768*768+768,
    #        c_fc 768*3072+3072, mlp c_proj 3072*768+768
    block = 2 * 1536 + (768 * 2304 + 2304) + (768 * 768 + 768) + (768 * 3072 + 3072)
    block += 3072 * 768 + 768
    assert block == 7_087_872
    spec = from_config(config("gpt2"), name="gpt2")
    assert spec.parameters == 50257 * 768 + 1024 * 768 + 12 * block + 1536 == 124_439_808
    assert spec.embedding_parameters == 50257 * 768 + 1024 * 768  # LM head tied to wte
    assert spec.tie_word_embeddings and not spec.gated_mlp and spec.causal
    assert (spec.n_layers, spec.hidden_size, spec.intermediate_size) == (12, 768, 3072)


def test_bert_is_an_encoder_with_pooler_and_token_types() -> None:
    spec = from_config(config("bert-base-uncased"), name="bert")
    embeddings = 30522 * 768 + 512 * 768 + 2 * 768  # + LayerNorm 2*768 below
    pooler = 768 * 768 + 768
    assert spec.parameters == embeddings + 2 * 768 + 12 * 7_087_872 + pooler == 109_482_240
    assert not spec.causal and spec.embedding_parameters == embeddings


def test_llama_2_7b() -> None:
    spec = from_config(config("llama-2-7b"), name="Llama-2-7B")
    # 2 * 32000*4096 (untied) + 32 * (4*4096^2 + 3*4096*11008 + 2*4096) + 4096
    assert (
        spec.parameters
        == 2 * 32000 * 4096 + 32 * (4 * 4096**2 + 3 * 4096 * 11008 + 2 * 4096) + 4096
        == 6_738_415_616
    )
    assert spec.active_parameters == spec.parameters
    assert (spec.n_heads, spec.n_kv_heads, spec.head_dim) == (32, 32, 128)
    assert spec.sliding_window == 0 and not spec.is_moe and not spec.uses_mla


def test_qwen2_has_qkv_bias_tied_embeddings_and_no_sliding_window() -> None:
    spec = from_config(config("qwen2.5-0.5b"), name="Qwen2.5-0.5B")
    # q 896*896+896, k and v 896*128+128 each, o 896*896, MLP 3*896*4864, 2 RMSNorms
    layer = 896 * 896 + 896 + 2 * (896 * 128 + 128) + 896 * 896 + 3 * 896 * 4864 + 2 * 896
    assert spec.parameters == 151936 * 896 + 24 * layer + 896 == 494_032_768
    assert spec.tie_word_embeddings
    assert (spec.sliding_window, spec.n_sliding_layers) == (0, 0)  # use_sliding_window false


def test_qwen2_sliding_window_when_enabled() -> None:
    cfg = config("qwen2.5-0.5b") | {"use_sliding_window": True, "max_window_layers": 20}
    spec = from_config(cfg, name="x")
    assert (spec.sliding_window, spec.n_sliding_layers) == (32768, 4)


def test_mistral_slides_on_every_layer() -> None:
    spec = from_config(config("mistral-7b-v0.1"), name="Mistral")
    assert (spec.sliding_window, spec.n_sliding_layers, spec.n_kv_heads) == (4096, 32, 8)
    assert spec.parameters == 7_241_732_096


def test_gemma2_alternates_sliding_layers_and_has_four_norms() -> None:
    spec = from_config(config("gemma-2-9b"), name="Gemma-2-9B")
    assert spec.head_dim == 256 != spec.hidden_size // spec.n_heads
    assert (spec.sliding_window, spec.n_sliding_layers) == (4096, 21)
    # tied 256000*3584 + 42 * (q,o 3584*4096 each, k,v 3584*2048 each, MLP 3*3584*14336,
    # four RMSNorms) + final norm
    layer = 2 * 3584 * 4096 + 2 * 3584 * 2048 + 3 * 3584 * 14336 + 4 * 3584
    assert spec.parameters == 256000 * 3584 + 42 * layer + 3584 == 9_241_705_984


def test_mixtral_active_parameters() -> None:
    spec = from_config(config("mixtral-8x7b"), name="Mixtral")
    assert spec.parameters == 46_702_792_704
    expert = 3 * 4096 * 14336
    assert spec.active_parameters == spec.parameters - 32 * 6 * expert  # 2 of 8 experts used
    assert (spec.n_experts, spec.n_experts_active, spec.moe_intermediate_size) == (8, 2, 14336)
    assert spec.sliding_window == 0  # "sliding_window": null


def test_olmoe_qk_norms_over_all_heads() -> None:
    spec = from_config(config("olmoe-1b-7b"), name="OLMoE")
    # per layer: 4*2048^2 attention, q_norm and k_norm 2*2048, 2 RMSNorms, router 2048*64,
    # 64 experts 3*2048*1024
    layer = 4 * 2048**2 + 2 * 2048 + 2 * 2048 + 2048 * 64 + 64 * 3 * 2048 * 1024
    assert spec.parameters == 2 * 50304 * 2048 + 16 * layer + 2048 == 6_919_161_856
    assert spec.active_parameters == spec.parameters - 16 * 56 * 3 * 2048 * 1024


def test_qwen2_moe_shared_expert_and_gate() -> None:
    spec = from_config(config("qwen1.5-moe-a2.7b"), name="Qwen-MoE")
    assert (spec.n_shared_experts, spec.shared_intermediate_size) == (1, 5632)
    assert spec.parameters == 14_315_784_192
    assert spec.n_dense_layers == 0


def test_qwen_moe_mlp_only_layers_are_dense() -> None:
    base = config("qwen3-30b-a3b")
    spec = from_config(base | {"mlp_only_layers": [0, 1]}, name="x")
    moe = from_config(base, name="y")
    expert, dense = 3 * 2048 * 768, 3 * 2048 * 6144
    assert spec.n_dense_layers == 2
    assert moe.parameters - spec.parameters == 2 * (128 * expert + 2048 * 128 - dense)


def test_deepseek_v3_latent_attention_and_dense_first_layers() -> None:
    spec = from_config(config("deepseek-v3"), name="DeepSeek-V3")
    assert spec.uses_mla and (spec.kv_lora_rank, spec.qk_rope_head_dim) == (512, 64)
    assert spec.n_dense_layers == 3 and spec.n_shared_experts == 1
    h = 7168
    attention = (
        h * 1536
        + 1536
        + 1536 * 128 * 192  # q_a_proj, q_a_layernorm, q_b_proj
        + h * (512 + 64)
        + 512
        + 512 * 128 * (128 + 128)  # kv_a (with rope), norm, kv_b
        + 128 * 128 * h  # o_proj
    )
    layer = attention + 2 * h
    moe = 256 * 3 * h * 2048 + 3 * h * 2048 + h * 256 + 256  # experts, shared, router, bias
    expected = 2 * 129280 * h + 61 * layer + 3 * 3 * h * 18432 + 58 * moe + h
    assert spec.parameters == expected == 671_026_419_200
    assert 37e9 < spec.active_parameters < 38e9  # "37B activated" in the model card


def test_kimi_k2_type_reads_as_deepseek_v3() -> None:
    # Moonshot ships DeepSeek-V3's architecture (DeepseekV3ForCausalLM) as model_type kimi_k2
    cfg = config("deepseek-v3")
    kimi = from_config(cfg | {"model_type": "kimi_k2"}, name="x")
    assert kimi.with_(family="deepseek_v3") == from_config(cfg, name="x")
    assert "kimi_k2" in SUPPORTED_FAMILIES


def test_phi3_fused_projections_count_the_same() -> None:
    spec = from_config(config("phi-3-mini-4k"), name="Phi-3")
    layer = 4 * 3072**2 + 3 * 3072 * 8192 + 2 * 3072
    assert spec.parameters == 2 * 32064 * 3072 + 32 * layer + 3072 == 3_821_079_552


def test_llama_attention_and_mlp_bias_follow_the_config() -> None:
    base = from_config(config("llama-2-7b"), name="a")
    biased = from_config(
        config("llama-2-7b") | {"attention_bias": True, "mlp_bias": True}, name="b"
    )
    assert biased.parameters - base.parameters == 32 * (4 * 4096 + 2 * 11008 + 4096)


def test_active_parameters_default_to_total() -> None:
    spec = ModelSpec("m", "llama", 10, 1, 8, 1, 1, 8, 16, 4, 4)
    assert spec.active_parameters == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model_type": "falcon"}, "model_type 'falcon' is not supported; supported: bert"),
        ({"hidden_size": None}, "missing key 'hidden_size'"),
        ({"num_hidden_layers": "32"}, "key 'num_hidden_layers' is '32'; expected an integer"),
        ({"num_attention_heads": 0}, "key 'num_attention_heads' is 0"),
        ({"num_key_value_heads": 5}, "32 attention heads are not a multiple of 5 KV heads"),
        ({"tie_word_embeddings": "no"}, "key 'tie_word_embeddings' is 'no'; expected true"),
        ({"vocab_size": 3.5}, "key 'vocab_size' is 3.5"),
    ],
)
def test_bad_llama_configs(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as caught:
        from_config(config("llama-2-7b") | change, name="bad", source="bad/config.json")
    assert caught.value.path == "bad/config.json"


def test_missing_model_type_lists_supported_families() -> None:
    with pytest.raises(ConfigError, match="no 'model_type' key") as caught:
        from_config({"hidden_size": 8}, name="x")
    assert all(family in caught.value.problem for family in SUPPORTED_FAMILIES)


def test_family_specific_key_names_in_errors() -> None:
    cfg = config("gpt2")
    del cfg["n_embd"]
    with pytest.raises(ConfigError, match="missing key 'n_embd'"):
        from_config(cfg, name="gpt2")


def test_not_a_dict() -> None:
    with pytest.raises(ConfigError, match="expected a JSON object, got list"):
        from_config([], name="x")  # type: ignore[arg-type]


def test_bert_relative_positions_rejected() -> None:
    with pytest.raises(ConfigError, match="only 'absolute'"):
        from_config(
            config("bert-base-uncased") | {"position_embedding_type": "relative_key"}, name="b"
        )


def test_more_active_experts_than_experts_rejected() -> None:
    with pytest.raises(ConfigError, match="num_experts_per_tok 9 exceeds the 8 experts"):
        from_config(config("mixtral-8x7b") | {"num_experts_per_tok": 9}, name="m")


# --- Hostile and malformed configs: one ConfigError naming the value, at once ----------------


@pytest.mark.parametrize("model_type", [[], {}, 3, None, True, "x" * 10_000])
def test_model_type_of_any_type(model_type: object) -> None:
    with pytest.raises(ConfigError, match="model_type|no 'model_type'") as caught:
        from_config(config("llama-2-7b") | {"model_type": model_type}, name="m")
    assert len(str(caught.value)) < 400  # a long value is cut, not copied whole


@pytest.mark.parametrize("model_id", ["qwen3-30b-a3b", "deepseek-v3", "mixtral-8x7b", "llama-2-7b"])
@pytest.mark.parametrize("layers", [10**9, 10**12, 10**18])
def test_absurd_layer_counts_are_refused_at_once(model_id: str, layers: int) -> None:
    cfg = config(model_id) | {"num_hidden_layers": layers}
    with pytest.raises(ConfigError, match=f"is {layers}; expected an integer from 1 to 10000"):
        from_config(cfg, name="m")


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("vocab_size", 10**400, "~1.0e+400"),
        ("max_position_embeddings", 10**400, "~1.0e+400"),
        ("max_position_embeddings", 2**40 + 1, str(2**40 + 1)),
        ("hidden_size", -4096, "-4096"),
        ("num_attention_heads", 10**8, "100000000"),
        ("intermediate_size", float("inf"), "inf"),
        ("vocab_size", float("nan"), "nan"),
    ],
)
def test_out_of_range_sizes_name_value_and_range(key: str, value: object, shown: str) -> None:
    with pytest.raises(ConfigError, match="expected an integer from") as caught:
        from_config(config("llama-2-7b") | {key: value}, name="m")
    assert f"key '{key}' is {shown};" in str(caught.value)


def test_total_beyond_the_parameter_bound_is_refused() -> None:
    cfg = config("llama-2-7b") | {"vocab_size": 10**9, "hidden_size": 10**7, "head_dim": 128}
    with pytest.raises(ConfigError, match="describes 2e\\+16 parameters; at most 1e\\+15"):
        from_config(cfg, name="m")


def moe_layers_by_enumeration(cfg: dict) -> int:
    """MoE layers counted layer by layer, as transformers' modelling code decides them."""
    layers = cfg["num_hidden_layers"]
    if cfg["model_type"] == "deepseek_v3":
        first, every = cfg.get("first_k_dense_replace", 0), cfg.get("moe_layer_freq", 1)
        return sum(1 for i in range(layers) if i >= first and i % every == 0)
    every, dense = cfg.get("decoder_sparse_step", 1), cfg.get("mlp_only_layers", [])
    return sum(1 for i in range(layers) if i not in dense and (i + 1) % every == 0)


@settings(max_examples=60, deadline=None)
@given(
    layers=st.integers(1, 40),
    first=st.integers(0, 50),
    every=st.integers(1, 6),
    dense=st.lists(st.integers(-3, 45), max_size=6),
    model_id=st.sampled_from(["deepseek-v3", "qwen3-30b-a3b"]),
)
def test_moe_layers_are_counted_like_the_enumeration(layers, first, every, dense, model_id):
    cfg = config(model_id) | {"num_hidden_layers": layers}
    if model_id == "deepseek-v3":
        cfg |= {"first_k_dense_replace": first, "moe_layer_freq": every}
    else:
        cfg |= {"decoder_sparse_step": every, "mlp_only_layers": dense}
    spec = from_config(cfg, name="m")
    assert spec.n_layers - spec.n_dense_layers == moe_layers_by_enumeration(cfg)


# --- A ModelSpec made by hand is checked as a config is --------------------------------------

SMALL = ModelSpec("m", "llama", 10, 1, 8, 2, 1, 4, 16, 4, 4).as_dict()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"parameters": -1e9}, "parameters"),
        ({"parameters": float("nan")}, "parameters"),
        ({"parameters": 7e9}, "parameters"),  # a float is not a count, even a whole one
        ({"parameters": 10**16}, "parameters"),
        ({"n_heads": 0}, "n_heads"),
        ({"vocab_size": -5}, "vocab_size"),
        ({"n_layers": True}, "n_layers"),
        ({"n_kv_heads": 3}, "n_kv_heads"),
        ({"n_kv_heads": 4}, "n_kv_heads"),
        ({"active_parameters": 11}, "active_parameters"),
        ({"n_experts_active": 1}, "n_experts_active"),
        ({"n_sliding_layers": 2}, "n_sliding_layers"),
        ({"name": None}, "name"),
        ({"warnings": ["w"]}, "warnings"),
    ],
)
def test_bad_model_spec_fields(change: dict, field: str) -> None:
    with pytest.raises(InvalidValueError, match=f"invalid {field} ") as caught:
        ModelSpec(**(SMALL | change))
    assert caught.value.name == field


def test_model_spec_takes_numpy_integers_as_ints() -> None:
    np = pytest.importorskip("numpy")
    spec = ModelSpec(**(SMALL | {"parameters": np.int64(10), "n_layers": np.int32(1)}))
    assert spec == ModelSpec(**SMALL) and type(spec.parameters) is int


def test_gpt_oss_20b_by_hand() -> None:
    # 24 layers of 2,880; attention 64 x 64 queries, 8 x 64 keys and values, biases on all four
    # projections and one sink logit per head; 32 experts of 2,880 with biases (gate/up 2 x 2880,
    # down 2880) and a router with a bias; two RMSNorms a layer; untied 201,088 x 2,880 tables.
    h, q, kv = 2880, 64 * 64, 8 * 64
    attention = 2 * h * q + q + h + 2 * (h * kv + kv) + 64
    experts = 32 * (3 * h * h + 2 * h + h) + h * 32 + 32
    total = 2 * 201_088 * h + h + 24 * (attention + experts + 2 * h)
    spec = from_config(config("gpt-oss-20b"), name="gpt-oss-20b")
    assert spec.parameters == total == 20_914_757_184
    assert spec.active_parameters == total - 24 * 28 * (3 * h * h + 3 * h)


def test_gpt_oss_without_layer_types_alternates_from_a_sliding_layer() -> None:
    cfg = {k: v for k, v in config("gpt-oss-20b").items() if k != "layer_types"}
    spec = from_config(cfg | {"num_hidden_layers": 5}, name="x")
    assert (spec.layer_types["sliding"], spec.layer_types["full"]) == (3, 2)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"layer_types": ["sliding_attention"] * 3}, "has 3 entries for 24 layers"),
        ({"layer_types": "full"}, "a list of strings"),
        ({"layer_types": ["sliding_attention", "chunked_attention"] * 12}, "chunked_attention"),
    ],
)
def test_bad_layer_types(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_config(config("gpt-oss-20b") | change, name="x")


def test_gemma_3_text_config_alone_counts_the_language_model() -> None:
    text = config("gemma-3-27b")["text_config"]
    spec = from_config(text, name="gemma-3-27b text")
    # 62 layers of 5,376: queries 32 x 128, keys and values 16 x 128, q/k norms over one head,
    # four RMSNorms, a gated MLP of 21,504; one tied 262,208-token table.
    layer = 2 * 5376 * 4096 + 2 * 5376 * 2048 + 2 * 128 + 4 * 5376 + 3 * 5376 * 21504
    assert spec.parameters == 262_208 * 5376 + 5376 + 62 * layer == 27_009_346_304
    assert spec.max_context == 131_072  # transformers' default: the key is absent


def test_gemma_3_needs_both_configs() -> None:
    cfg = config("gemma-3-4b")
    with pytest.raises(ConfigError, match="vision_config"):
        from_config({k: v for k, v in cfg.items() if k != "vision_config"}, name="x")
    with pytest.raises(ConfigError, match="gemma3_text"):
        from_config(cfg | {"text_config": {"model_type": "llama"}}, name="x")


def hub_config(name: str) -> dict:
    """A model's ``config.json`` kept beside the tests (its address is in the file)."""
    return json.loads((Path(__file__).parent / "configs" / f"{name}.json").read_text())["config"]


def test_glm_4_5_air_first_dense_layer_shared_expert_and_router_bias() -> None:
    spec = from_config(hub_config("glm-4.5-air"), name="GLM-4.5-Air")
    h = 4096
    attention = 2 * h * 96 * 128 + 96 * 128 + 2 * (h * 8 * 128 + 8 * 128)  # q, k, v biases only
    expert = 3 * h * 1408
    moe = 128 * expert + expert + h * 128 + 128  # routed, shared, router and its bias
    total = 2 * 151_552 * h + h + 46 * (attention + 2 * h) + 3 * h * 10944 + 45 * moe
    assert spec.parameters == total == 106_852_251_264
    # The model card says 106B total and 12B active, in whole billions (active: without the two
    # vocabulary tables).
    assert spec.parameters // 10**9 == 106
    assert (spec.active_parameters - 2 * 151_552 * h) // 10**9 == 12
    # The checkpoint (safetensors.total 110,468,824,832) also holds layer 46, the
    # multi-token-prediction module with its own embedding and head, which the model class skips:
    mtp = 2 * h + 2 * h * h + h + attention + 2 * h + moe + 2 * 151_552 * h
    assert total + mtp == 110_468_824_832
    assert spec.layer_types["full"] == 46


def test_qwen3_next_gated_deltanet_layers_and_their_state() -> None:
    spec = from_config(config("qwen3-next-80b-a3b"), name="Qwen3-Next")
    h = 2048
    # every 4th layer is gated full attention: the query projection doubles (query + gate)
    full = 2 * h * 16 * 256 + h * 16 * 256 + 2 * h * 2 * 256 + 2 * 256
    # gated DeltaNet: qkvz 2 x 16 x 128 + 2 x 32 x 128, ba 2 x 32, a 4-wide convolution over
    # 2 x 2048 + 4096 channels, dt_bias and A_log, a norm of 128, out 4096 -> 2048
    linear = h * 12288 + h * 64 + 8192 * 4 + 64 + 128 + 4096 * h
    moe = 512 * 3 * h * 512 + 3 * h * 512 + h * 512 + h  # experts, shared, router, shared gate
    total = 2 * 151_936 * h + h + 48 * (2 * h + moe) + 12 * full + 36 * linear
    assert spec.parameters == total == 79_674_391_296
    assert round(spec.parameters / 1e9) == 80  # model card: 80B total
    assert (spec.layer_types["full"], spec.layer_types["recurrent"]) == (12, 36)
    # per layer and sequence: 32 value heads of a 128 x 128 state, and the convolution's last
    # 3 inputs of 8,192 channels
    assert spec.recurrent_state == 32 * 128 * 128 + 3 * 8192 == 548_864


def test_qwen3_next_layer_types_list_agrees_with_the_interval() -> None:
    kinds = (["linear_attention"] * 3 + ["full_attention"]) * 12
    cfg = config("qwen3-next-80b-a3b")
    assert from_config(cfg | {"layer_types": kinds}, name="x") == from_config(cfg, name="x")


def test_qwen3_5_text_config_alone_counts_the_language_model() -> None:
    spec = from_config(config("qwen3.6-27b")["text_config"], name="Qwen3.6-27B text")
    h = 5120
    # 16 gated full-attention layers: queries and their gate 2 x 24 x 256, keys and values
    # 4 x 256 each, output 24 x 256 -> 5,120, q/k norms over one head of 256
    full = 2 * h * 24 * 256 + 2 * h * 4 * 256 + 24 * 256 * h + 2 * 256
    # 48 gated DeltaNet layers: qkv 2 x 16 x 128 + 48 x 128, z 48 x 128, b and a 48 each, a
    # 4-wide convolution over 10,240 channels, dt_bias and A_log, a norm of 128, out -> 5,120
    linear = h * 10240 + h * 6144 + 2 * h * 48 + 10240 * 4 + 2 * 48 + 128 + 6144 * h
    layer_rest = 3 * h * 17408 + 2 * h  # a gated MLP of 17,408 and two RMSNorms, every layer
    total = 2 * 248_320 * h + h + 16 * full + 48 * linear + 64 * layer_rest
    assert spec.parameters == total == 26_895_998_464
    assert "vision_parameters" not in spec.extra
    assert (spec.layer_types["full"], spec.layer_types["recurrent"]) == (16, 48)
    # 48 value heads of a 128 x 128 state, and the convolution's last 3 inputs of 10,240
    assert spec.recurrent_state == 48 * 128 * 128 + 3 * 10240 == 817_152


def test_qwen3_5_state_parts_and_the_dtype_of_the_temporal_one() -> None:
    # vLLM keeps a gated DeltaNet layer's 48 x 128 x 128 state in the config's mamba_ssm_dtype
    # (float32 in Qwen3.5's configs) and the convolution's window in the model's dtype
    spec = from_config(config("qwen3.6-27b"), name="x")
    assert spec.extra["recurrent_temporal_state"] == 48 * 128 * 128
    # the short convolution runs over queries and keys (16 heads x 128 each) and values (6,144)
    assert spec.extra["recurrent_conv_channels"] == 2 * 16 * 128 + 48 * 128 == 10_240
    assert (spec.extra["recurrent_value_heads"], spec.extra["recurrent_key_dim"]) == (48, 128)
    assert spec.extra["recurrent_value_dim"] == 128
    assert spec.extra["recurrent_state_dtype"] == "fp32"
    assert "recurrent_state_dtype" not in from_config(config("qwen3-next-80b-a3b"), name="x").extra
    cfg = config("qwen3.6-27b")
    bad = cfg | {"text_config": cfg["text_config"] | {"mamba_ssm_dtype": "fp32"}}
    with pytest.raises(ConfigError, match="'mamba_ssm_dtype' is 'fp32'; expected 'float32'"):
        from_config(bad, name="x")


def test_qwen3_5_without_the_output_gate_has_single_query_projections() -> None:
    cfg = config("qwen3.6-27b")
    plain = cfg | {"text_config": cfg["text_config"] | {"attn_output_gate": False}}
    gated, ungated = from_config(cfg, name="x"), from_config(plain, name="x")
    assert gated.parameters - ungated.parameters == 16 * 5120 * 24 * 256


def test_qwen3_5_moe_every_layer_has_experts_and_a_shared_one() -> None:
    spec = from_config(config("qwen3.6-35b-a3b")["text_config"], name="x")
    assert (spec.n_experts, spec.n_experts_active, spec.n_dense_layers) == (256, 8, 0)
    assert (spec.moe_intermediate_size, spec.n_shared_experts) == (512, 1)
    assert spec.shared_intermediate_size == 512


def test_qwen3_5_tie_word_embeddings_of_the_multimodal_config() -> None:
    cfg = config("qwen3.6-27b")
    text = {k: v for k, v in cfg["text_config"].items() if k != "tie_word_embeddings"}
    tied = from_config(cfg | {"text_config": text, "tie_word_embeddings": True}, name="x")
    untied = from_config(cfg, name="x")
    assert tied.tie_word_embeddings and not untied.tie_word_embeddings
    assert untied.parameters - tied.parameters == 248_320 * 5120


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vision_config": None}, "'vision_config' is None; expected a JSON object"),
        ({"text_config": {"model_type": "qwen3_5_moe_text"}}, "supported: qwen3_5_text"),
        (
            {"vision_config": {"deepstack_visual_indexes": [8, 16, 24]}},
            r"'deepstack_visual_indexes' is \[8, 16, 24\]; only an empty list",
        ),
        ({"vision_config": {"depth": 0}}, "'depth' is 0; expected an integer from 1"),
    ],
)
def test_qwen3_5_bad_nested_configs(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_config(config("qwen3.6-27b") | change, name="x")


def test_llama_4_scout_counts_its_language_model_with_chunked_layers() -> None:
    spec = from_config(hub_config("llama-4-scout"), name="Llama-4-Scout")
    h = 5120
    # every layer: 40 x 128 queries, 8 x 128 keys and values (L2 q/k norms have no weights),
    # 16 routed experts and one shared expert of 8,192, a router without bias, two RMSNorms
    attention = 2 * h * 40 * 128 + 2 * h * 8 * 128
    moe = 17 * 3 * h * 8192 + h * 16
    total = 2 * 202_048 * h + h + 48 * (attention + moe + 2 * h)
    assert spec.parameters == total == 107_769_861_120
    # the model card's 109B total also counts the vision encoder, which is not read here
    assert spec.active_parameters // 10**9 == 17  # model card: 17B active
    # RoPE layers attend within chunks of 8,192 tokens; every 4th layer (NoPE) to everything
    assert (spec.layer_types["chunked"], spec.layer_types["full"]) == (36, 12)
    assert spec.attention_chunk == 8192


@pytest.mark.parametrize(
    ("change", "chunked"),
    [
        ({"no_rope_layers": [1, 1, 0] * 16}, 32),
        ({"no_rope_layer_interval": 2}, 24),
        ({"layer_types": ["chunked_attention", "full_attention"] * 24}, 24),
        ({"attention_chunk_size": None}, 0),
    ],
)
def test_llama_4_chunked_layers_from_each_key(change: dict, chunked: int) -> None:
    cfg = hub_config("llama-4-scout")
    spec = from_config(cfg | {"text_config": cfg["text_config"] | change}, name="x")
    assert spec.n_chunked_layers == chunked


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"no_rope_layers": [1, True]}, "a list of 0 and 1"),
        ({"no_rope_layers": [1, 0]}, "has 2 entries for 48 layers"),
        ({"model_type": "llama"}, "supported: llama4_text"),
    ],
)
def test_bad_llama_4_text_configs(change: dict, message: str) -> None:
    cfg = hub_config("llama-4-scout")
    with pytest.raises(ConfigError, match=message):
        from_config(cfg | {"text_config": cfg["text_config"] | change}, name="x")


def test_nemotron_h_mamba_attention_and_mlp_blocks() -> None:
    spec = from_config(hub_config("nemotron-nano-9b-v2"), name="Nemotron-Nano-9B-v2")
    h = 4480
    # 27 Mamba-2 blocks: 128 heads of 80 (10,240 wide), 8 groups of a 128-value state;
    # in_proj to x, z, B, C and dt; a 4-wide convolution with bias over 10,240 + 2 x 8 x 128;
    # dt_bias, A_log, D; a gated RMSNorm; out_proj
    conv = 10240 + 2 * 8 * 128
    mamba = h * (10240 + conv + 128) + conv * 4 + conv + 3 * 128 + 10240 + 10240 * h
    attention = 2 * h * 40 * 128 + 2 * h * 8 * 128  # 4 blocks
    mlp = 2 * h * 15680  # 25 blocks: up and down, squared ReLU, no bias
    total = 2 * 131_072 * h + h + 56 * h + 27 * mamba + 4 * attention + 25 * mlp
    assert spec.parameters == total == 8_888_227_328
    assert round(spec.parameters / 1e8) == 89  # model card: 8.9 x 10^9 parameters
    assert spec.layer_types == {"full": 4, "sliding": 0, "chunked": 0, "latent": 0, "recurrent": 27}
    assert spec.n_mlp_layers == 25
    # per block and sequence: the 128 x 80 x 128 state and the convolution's last 3 inputs
    assert spec.recurrent_state == 128 * 80 * 128 + 3 * conv == 1_347_584
    assert spec.extra["recurrent_temporal_state"] == 128 * 80 * 128
    assert spec.extra["recurrent_conv_channels"] == conv == 12_288


@pytest.mark.parametrize("pattern", ["M*", "M*X" + "-" * 53, 56])
def test_bad_nemotron_h_patterns(pattern: object) -> None:
    with pytest.raises(ConfigError, match="hybrid_override_pattern"):
        cfg = hub_config("nemotron-nano-9b-v2") | {"hybrid_override_pattern": pattern}
        from_config(cfg, name="x")


def test_layer_kinds_cannot_exceed_the_layers() -> None:
    spec = from_config(hub_config("nemotron-nano-9b-v2"), name="x")
    with pytest.raises(InvalidValueError, match="n_mlp_layers"):
        spec.with_(n_mlp_layers=30)


# --- Weights as shipped: ModelOpt checkpoints (quant_method modelopt) ----------------------
def _qwen3_8(quantization: dict) -> ModelSpec:
    """Qwen3.8-27B's catalog config with ``quantization`` as its quantization_config."""
    from gpumem.catalog import catalog_entry

    config = catalog_entry("qwen3.8-27b")["config"]
    return from_config({**config, "quantization_config": quantization}, name="m")


#: Qwen3.8-27B's gated DeltaNet layers: three of every four, the fourth full attention.
DELTA_NET = [i for i in range(64) if i % 4 != 3]


def _delta_net_ignores(parts: tuple[str, ...], layers: list[int] = DELTA_NET) -> list[str]:
    return [f"model.language_model.layers.{i}.linear_attn.{p}" for i in layers for p in parts]


IN_PROJ = ("conv1d", "in_proj_a", "in_proj_b", "in_proj_qkv", "in_proj_z")


def test_modelopt_ignore_list_keeps_the_delta_net_inputs_head_and_tower() -> None:
    # config.json's form: every DeltaNet layer's convolution and input projections listed one by
    # one, the LM head, the embedding, the vision tower and the MTP module by name; the full
    # attention layers, the MLPs and the DeltaNet output projections stay NVFP4
    ignore = ["lm_head", "embed_tokens", "model.visual*", "mtp*", *_delta_net_ignores(IN_PROJ)]
    m = _qwen3_8({"quant_method": "modelopt", "quant_algo": "NVFP4", "ignore": ignore})
    assert m.extra["quantization"] == {
        "method": "modelopt",
        "format": "nvfp4",
        "quantized": ["attention", "dense", "recurrent_out"],
        "unplaced": [],
    }


def test_modelopt_hf_quant_config_form_quantizes_all_but_what_it_excludes() -> None:
    # hf_quant_config.json's form, ModelOpt 0.39: whole DeltaNet layers by a wildcard each
    excluded = ["lm_head", *(f"model.language_model.layers.{i}.linear_attn*" for i in DELTA_NET)]
    q = {"quant_algo": "NVFP4", "group_size": 16, "exclude_modules": excluded}
    m = _qwen3_8({"quant_method": "modelopt", "quantization": q})
    assert m.extra["quantization"]["quantized"] == ["attention", "dense", "vision"]
    # nothing excluded: every linear layer and, from vLLM 0.24, the LM head
    m = _qwen3_8({"quant_method": "modelopt", "quant_algo": "nvfp4"})
    dense = ("experts", "shared")  # modules the dense model does not have
    assert m.extra["quantization"]["quantized"] == [q for q in QUANTIZABLE if q not in dense]
    assert m.extra["vision_linear_parameters"] == 27 * (4 * 1152**2 + 2 * 1152 * 4304) + (
        4608**2 + 4608 * 5120
    )


@pytest.mark.parametrize(
    "quantization",
    [
        {"quant_method": "modelopt", "quant_algo": "NVFP4", "group_size": 32},
        {"quant_method": "modelopt", "quant_algo": "MIXED_PRECISION"},
        {"quant_method": "modelopt", "quant_algo": ["NVFP4"]},
        {"quant_method": "modelopt", "quantization": {"quant_algo": "W4A8_AWQ"}},
    ],
)
def test_modelopt_formats_gpumem_cannot_count_have_none(quantization: dict) -> None:
    assert _qwen3_8(quantization).extra["quantization"]["format"] is None


def test_modelopt_patterns_of_some_layers_or_parts_or_unknown_modules_are_unplaced() -> None:
    # the input projections of 47 of the 48 DeltaNet layers; an attention block's query only;
    # a module gpumem does not know (a Gemma-style vision tower); an empty pattern
    some = _delta_net_ignores(("in_proj_qkv", "in_proj_z"), DELTA_NET[1:])
    ignore = [*some, "q_proj", "vision_tower*", ""]
    shipped = _qwen3_8({"quant_method": "modelopt", "quant_algo": "NVFP4", "ignore": ignore})
    unplaced = shipped.extra["quantization"]["unplaced"]
    assert unplaced[:2] == ["vision_tower*", ""]
    assert set(unplaced[2:]) == {*some, "q_proj"}


def test_modelopt_exclusion_lists_are_strings() -> None:
    with pytest.raises(ConfigError, match="'ignore' is 'lm_head'"):
        _qwen3_8({"quant_method": "modelopt", "quant_algo": "NVFP4", "ignore": "lm_head"})
    with pytest.raises(ConfigError, match="'quantization'"):
        _qwen3_8({"quant_method": "modelopt", "quantization": ["NVFP4"]})


# --- Weights as shipped: FP8 checkpoints, their list matched as vLLM's Fp8Config matches it ---
FP8 = {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]}
TOWER = [f"model.visual.blocks.{b}.{n}" for b in range(27) for n in ("attn.qkv", "attn.proj")]
TOWER += [f"model.visual.blocks.{b}.mlp.linear_fc{n}" for b in range(27) for n in (1, 2)]
TOWER += ["model.visual.merger.linear_fc1", "model.visual.merger.linear_fc2"]


def _fp8(kept: list[str]) -> dict:
    return _qwen3_8({**FP8, "modules_to_not_convert": kept}).extra["quantization"]


def test_fp8_names_are_exact_not_substrings() -> None:
    # a dense layer's "mlp.gate" (a router's name) is no prefix of its gate_proj for vLLM, and
    # the DeltaNet gates named one by one, in either spelling, leave the input projections FP8
    routers = [f"model.language_model.layers.{i}.mlp.gate" for i in range(64)]
    gates = _delta_net_ignores(("in_proj_a",)) + [
        f"language_model.model.layers.{i}.linear_attn.in_proj_b" for i in DELTA_NET
    ]
    assert _fp8([*routers, *gates, *TOWER]) == {
        "method": "fp8",
        "format": "fp8_block128",
        "quantized": ["attention", "dense", "recurrent_in", "recurrent_out"],
        "unplaced": [],
    }
    # vLLM's own spelling of the tower's modules counts as the checkpoint's
    vllm_tower = [name.removeprefix("model.") for name in TOWER]
    assert "vision" not in _fp8(vllm_tower)["quantized"]


def test_fp8_names_vllm_ignores_are_unplaced_unless_nothing_hangs_on_them() -> None:
    # wildcards and parent modules exclude nothing in vLLM's Fp8Config: refused by name, unless
    # what the parent holds is excluded anyway (the tower named whole beside its layers)
    wild = ["model.language_model.layers.*.linear_attn.in_proj_a", "model.visual"]
    assert _fp8(wild)["unplaced"] == wild
    assert _fp8(["model.visual", "visual", *TOWER])["unplaced"] == []
    # names of modules vLLM does not build here: the MTP module (not counted), Qwen3-VL's extra
    # mergers and a qkv_proj in a vision block
    absent = ["mtp.pre_fc_norm_hidden", "mtp.layers.0.mlp.shared_expert_gate"]
    absent += ["model.visual.deepstack_merger_list.0.linear_fc1", "visual.blocks.3.attn.qkv_proj"]
    assert _fp8(absent) == {**_fp8([]), "unplaced": []}
    assert "vision" in _fp8(absent)["quantized"]


# --- Weights as shipped: ModelOpt MIXED_PRECISION, a format a module -------------------------
def _qwen3_6_mixed(quantized_layers: object, **quantization: object) -> ModelSpec:
    """Qwen3.6-35B-A3B's catalog config as a MIXED_PRECISION checkpoint (hf_quant_config.json's
    form inside quantization_config)."""
    from gpumem.catalog import catalog_entry

    q = {"quant_algo": "MIXED_PRECISION", "quantized_layers": quantized_layers, **quantization}
    config = {**catalog_entry("qwen3.6-35b-a3b")["config"]}
    config["quantization_config"] = {"quant_method": "modelopt", "quantization": q}
    return from_config(config, name="m")


def _qwen3_6_layers() -> dict:
    """Every layer's experts and shared expert in NVFP4 (weights only), full attention (every
    fourth layer) and the DeltaNet projections but beta and decay in FP8, the LM head NVFP4."""
    nvfp4, fp8 = {"quant_algo": "W4A16_NVFP4", "group_size": 16}, {"quant_algo": "FP8"}
    layers = {}
    for i in range(40):
        root = f"model.language_model.layers.{i}"
        parts = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj")
        if i % 4 != 3:
            parts = ("linear_attn.in_proj_qkv", "linear_attn.in_proj_z", "linear_attn.out_proj")
        layers |= {f"{root}.{p}": fp8 for p in parts}
        layers[f"{root}.mlp.experts"] = nvfp4
        layers |= {f"{root}.mlp.shared_expert.{p}_proj": nvfp4 for p in ("gate", "up", "down")}
    return {**layers, "lm_head": nvfp4}


def test_mixed_precision_places_each_module_in_its_format() -> None:
    # the MTP module's names and exclusions count nothing; NVFP4 comes first, FP8 second
    layers = {**_qwen3_6_layers(), "mtp.layers.0.mlp.experts": {"quant_algo": "FP8"}}
    m = _qwen3_6_mixed(layers, exclude_modules=["mtp*", "mtp.layers.0*"])
    assert m.extra["quantization"] == {
        "method": "modelopt",
        "format": "nvfp4",
        "quantized": ["experts", "shared", "lm_head"],
        "second_format": "fp8_e4m3",
        "second_quantized": ["attention", "recurrent_in", "recurrent_out"],
        "unresolved": [],
        "unplaced": [],
    }


def test_mixed_precision_experts_named_one_by_one_and_a_group_size_of_32() -> None:
    # a name under mlp.experts gives the layer's experts their format, as vLLM's lookup does
    layers = {
        k.replace("mlp.experts", "mlp.experts.0.gate_proj"): v for k, v in _qwen3_6_layers().items()
    }
    assert "experts" in _qwen3_6_mixed(layers).extra["quantization"]["quantized"]
    # vLLM's group size: the config's, else the first NVFP4 entry's; gpumem counts 16 only
    assert _qwen3_6_mixed(_qwen3_6_layers(), group_size=32).extra["quantization"]["format"] is None
    other = {k: {**v, "group_size": 32} for k, v in _qwen3_6_layers().items()}
    assert _qwen3_6_mixed(other).extra["quantization"]["format"] is None


@pytest.mark.parametrize("layers", [["lm_head"], {"lm_head": "FP8"}, {"lm_head": {}}, None])
def test_mixed_precision_quantized_layers_must_be_objects(layers: object) -> None:
    with pytest.raises(ConfigError, match="'quantized_layers'"):
        _qwen3_6_mixed(layers)
