"""The symbolic model, the code generated from it and the tables read off its expressions."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gpumem import codegen, symbolic
from gpumem._generated import formulas as fx
from gpumem.symbolic.core import sym


def test_generated_module_is_current() -> None:
    committed = codegen.TARGET.read_text(encoding="utf-8")
    assert committed == codegen.render(), "run: python -m gpumem.codegen"


def test_ceil_div_is_exact_at_divisibility_edges() -> None:
    # 49 / 49 must be exactly 1, 50 / 49 exactly 2: no floating point in the generated code.
    assert fx._ceil_div(49, 49) == 1
    assert fx._ceil_div(50, 49) == 2
    assert fx.kv_values_gqa(n_kv=8, d_h=128, N_tp=3) == 2 * 3 * 128
    assert symbolic.CeilDiv(sp.Integer(8), sp.Integer(3)) == 3


def _exact(name: str, values: dict[str, int]) -> sp.Expr:
    formula = symbolic.FORMULAS[name]
    subs = {
        sp.Symbol(k) if k not in symbolic.SYMBOLS else symbolic.SYMBOLS[k].symbol: v
        for k, v in values.items()
    }
    return formula.rhs.subs(subs)


sizes = st.integers(min_value=1, max_value=10**6)


@settings(deadline=None)  # exact SymPy evaluation, slow on a loaded machine
@given(
    P=sizes,
    L=st.integers(1, 200),
    tp=st.integers(1, 16),
    pp=st.integers(1, 16),
    dp=st.integers(1, 64),
    s=sizes,
    w=sizes,
    n_kv=st.integers(1, 128),
    z=st.integers(0, 1),
)
def test_generated_code_equals_symbolic_form(P, L, tp, pp, dp, s, w, n_kv, z) -> None:
    cases = {
        "weights": {"P_s": P, "P_q": P // 3, "W_f": 0, "b_w": 2, "b_q": 0.53125}
        | {"P_q2": P // 5, "b_q2": 1}
        | {"N_dp": dp, "N_tp": tp, "N_pp": pp, "z_3": z, "y_f": 0},
        "L_s": {"L": L, "N_pp": pp},
        "kv_values_gqa": {"n_kv": n_kv, "d_h": 128, "N_tp": tp},
        "kv_cache_full": {
            "L": L,
            "L_w": L // 2,
            "L_c": 0,
            "L_r": 1,
            "L_n": 2,
            "B": 3,
            "s": s,
            "b_kv": 2,
            "N_pp": pp,
            "e_kv": 256,
        },
        "kv_cache_sliding": {
            "L_w": L // 2,
            "w": w,
            "B": 3,
            "s": s,
            "b_kv": 2,
            "N_pp": pp,
            "e_kv": 256,
        },
        "kv_cache_recurrent": {
            "L_r": 1,
            "e_r": 548_864,
            "e_t": 524_288,
            "c_r": 8_192,
            "k_c": 1,
            "B": 3,
            "b_kv": 2,
            "b_r": 4,
            "N_tp": tp,
            "N_pp": pp,
        },
        "gpu_count": {"N_dp": dp, "N_tp": tp, "N_pp": pp},
        "b_t": {"u_l": z, "p_m": z, "p_a": 0, "b_d": 2, "b_u": 4},
    }
    for name, values in cases.items():
        generated = getattr(fx, name)(**values)
        exact = _exact(name, values)
        if exact.is_Integer:
            assert generated == int(exact)
        else:
            assert float(generated) == pytest.approx(float(exact), rel=1e-12)


def test_every_formula_is_generated_with_its_arguments() -> None:
    for name, formula in symbolic.FORMULAS.items():
        function = getattr(fx, name)
        code = function.__code__
        assert code.co_varnames[: code.co_argcount] == formula.arguments


def test_generated_code_runs_on_arrays_of_batch_and_sequence() -> None:
    batch, seq = np.array([1, 2, 5]), np.array([7, 4096, 9000])
    values = {"L_w": 16, "w": 4096, "b_kv": 2, "N_pp": 1, "e_kv": 2048}
    swept = fx.kv_cache_sliding(B=batch, s=seq, **values)
    assert list(swept) == [
        fx.kv_cache_sliding(B=int(b), s=int(n), **values) for b, n in zip(batch, seq, strict=True)
    ]
    assert list(fx.s_l(s=seq, x_l=1)) == list(seq)


def test_codegen_refuses_conditions_on_swept_inputs_and_missing_defaults() -> None:
    B, s = symbolic.SYMBOLS["B"].symbol, symbolic.SYMBOLS["s"].symbol
    with pytest.raises(ValueError, match="depends on"):
        codegen._Printer().doprint(sp.Piecewise((1, s > 4), (2, True)))
    with pytest.raises(ValueError, match="default"):
        codegen._Printer().doprint(sp.Piecewise((1, B > 4)))


# --- tables read off the expressions --------------------------------------------------------


def test_phase_tables_hold_the_terms_of_each_phase() -> None:
    # Written out from the model: what is live at the end of each phase.
    persistent = ("weights", "adapter_weights", "master_weights", "optimizer_states")
    assert fx.PEAKS == {
        "training_peak": (
            "forward",
            "backward",
            "optimizer",
            "backward_end",
            "backward_top",
            "backward_bottom",
        ),
        "inference_peak": ("prefill", "decode"),
    }
    assert fx.PHASES["prefill"] == (
        "phase_prefill",
        (
            ("weights",),
            ("kv_cache",),
            ("kv_cache_overhang",),
            ("prefill_workspace", "logits_inference"),
            ("attention_masks",),
        ),
    )
    assert fx.PHASES["decode"] == (
        "phase_decode",
        (("weights",), ("kv_cache_decode",), ("decode_workspace", "logits_decode")),
    )
    backward = {name for slot in fx.PHASES["backward"][1] for name in slot}
    assert backward == {*persistent, "activations_training", "autocast_copies_kept"} | {
        "recomputed_layer",
        "logits_backward",
        "gathered_weights",  # FSDP2: the root's gathered weights (every block's at ZeRO-2)
        "all_gather_prefetch",  # FSDP2 at ZeRO-3: the last block's all-gather, prefetched
    }
    optimizer = [slot for slot in fx.PHASES["optimizer"][1]]
    assert optimizer == [(n,) for n in (*persistent, "gradients", "optimizer_temporaries")]
    end = [slot for slot in fx.PHASES["backward_end"][1]]
    fsdp = ("gathered_root", "block_gradients", "root_gradients", "reduce_scatter_buffer")
    assert end == [(n,) for n in (*persistent, *fsdp)]
    for where in ("top", "bottom"):
        block = {name for slot in fx.PHASES[f"backward_{where}"][1] for name in slot}
        assert block == {*persistent, "all_gather_prefetch", "reduce_scatter_buffer"} | {
            f"activations_backward_{where}",
            f"gathered_backward_{where}",  # the root's and the block's (up to it at ZeRO-2)
            f"block_gradients_backward_{where}",  # shards above, the block's unsharded
            "head_gradient",
        }


@given(st.lists(st.integers(0, 10**12), min_size=16, max_size=16))
def test_a_phase_is_the_sum_of_its_live_terms(numbers) -> None:
    # The generated phase functions, and the table of terms, agree for any term values.
    for phase, (formula, slots) in fx.PHASES.items():
        terms = {name for slot in slots for name in slot}
        values = dict(zip(sorted(terms), numbers, strict=False))
        function = getattr(fx, formula)
        total = function(**{k: values[k] for k in symbolic.FORMULAS[formula].arguments})
        assert total == sum(max(values[name] for name in slot) for slot in slots), phase


def test_evaluation_order_puts_each_formula_after_what_it_uses() -> None:
    for peak, names in fx.ORDER.items():
        assert names[-1] == peak
        for i, name in enumerate(names):
            used = [a for a in symbolic.FORMULAS[name].arguments if a in symbolic.FORMULAS]
            assert set(used) <= set(names[:i]), name


# --- derived inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("b_d", "x_f", "b_a"),
    # FP32 and 16-bit floats compute in themselves; FP8 and integer formats in 16 bits.
    [(4, 1, 4), (2, 1, 2), (1, 1, 2), (0.5, 0, 2), (1, 0, 2)],
)
def test_activation_bytes(b_d, x_f, b_a) -> None:
    assert fx.b_a(b_d=b_d, x_f=x_f) == b_a


def test_rule_of_thumb_multipliers() -> None:
    assert fx.k_r(m_t=0) == 1.2
    assert fx.k_r(m_t=1) == 2


def test_attention_features_of_latent_attention() -> None:
    # DeepSeek-V2-Lite: q_proj 2048 -> 16 x 192, kv_a 2048 -> 512 + 64, kv_b 512 -> 16 x
    # (128 + 128), o_proj 16 x 128 -> 2048.
    features = (2048 + 3072) + (2048 + 576) + (512 + 4096) + (2048 + 2048)
    values = {"h": 2048, "n_h": 16, "d_h": 192, "c_kv": 512, "d_r": 64, "c_q": 0, "d_v": 128}
    assert fx.attention_features_mla(**values) == features
    # With a compressed query (DeepSeek-V3: q_a 7168 -> 1536, q_b 1536 -> 128 x 192).
    v3 = {"h": 7168, "n_h": 128, "d_h": 192, "c_kv": 512, "d_r": 64, "c_q": 1536, "d_v": 128}
    assert fx.attention_features_mla(**v3) == (
        (7168 + 1536) + (1536 + 128 * 192) + (7168 + 576) + (512 + 128 * 256) + (128 * 128 + 7168)
    )


def test_roofline() -> None:
    # H100 SXM: 3.35 TB/s, 989.4 dense TFLOPS -> ridge at 295 FLOP/B.
    bw, peak = 3.35e12, 989.4e12
    assert fx.ridge_point(BW=bw, T_pk=peak) == pytest.approx(295.3, abs=0.1)
    assert fx.attainable_throughput(BW=bw, T_pk=peak, I_a=1.0) == bw
    assert fx.attainable_throughput(BW=bw, T_pk=peak, I_a=1000.0) == peak
    assert fx.decode_intensity(B=1, b_w=2) == 1  # 2 FLOP per 2-byte weight


def test_latex_uses_symbol_names() -> None:
    text = symbolic.latex("kv_values_gqa")
    assert "n_{kv}" in text and "d_h" in text and r"\lceil" in text


def test_substitute_worked_example_7b_fp16() -> None:
    # 7 billion parameters × 2 bytes = 14 GB, one GPU.
    value = symbolic.substitute(
        "weights",
        {"P_s": 7 * 10**9, "P_q": 0, "W_f": 0, "b_w": 2, "b_q": 0, "N_dp": 1, "N_tp": 1, "N_pp": 1}
        | {"z_3": 0, "y_f": 0, "P_q2": 0, "b_q2": 0},
    )
    assert value == 14 * 10**9


def test_weights_of_a_file_are_its_bytes() -> None:
    # a GGUF file's 4,683,072,512 tensor bytes stay exact, whatever the parameters x bytes
    values = {
        "P_s": 7 * 10**9,
        "P_q": 0,
        "P_q2": 0,
        "b_w": 2,
        "b_q": 0,
        "b_q2": 0,
        "N_dp": 1,
        "N_tp": 1,
        "N_pp": 1,
        "z_3": 0,
        "y_f": 0,
    }
    assert fx.weights(W_f=4_683_072_512, **values) == 4_683_072_512


def test_a_symbol_name_is_defined_once() -> None:
    # two quantities sharing a name would be one SymPy symbol in every formula
    with pytest.raises(ValueError, match="'n_g'"):
        sym("n_g", "n_g", "a second meaning")
