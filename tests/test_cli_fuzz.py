"""The command line under random argument vectors: an answer (exit 0) or one error line (exit 2),
never a traceback; and ``--json`` equal to the Python API to the byte.

Fixed example counts and deadlines keep the suite to a few seconds; ``derandomize`` makes every
run try the same vectors, so a failure reproduces.
"""

from __future__ import annotations

import contextlib
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpumem.cli import main
from gpumem.errors import GpumemError

MODELS = ["gpt2", "llama-3.1-8b", "qwen2.5-0.5b", "mixtral-8x7b", "qwen3-30b-a3b", "llama-2-70b"]
GPUS = ["rtx-4090", "a10", "h100-sxm", "mi300x"]
FORMATS = ["bf16", "fp16", "fp32", "fp8_e4m3", "q4_k_m", "q8_0", "nf4", "int4"]

junk = st.sampled_from(
    ["", " ", "-1", "0", "nan", "inf", "1e400", "1" + "0" * 400, "x" * 300, "é", "--json", "="]
)


def mostly(good: st.SearchStrategy[str], *bad: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Three times in four a good value, else a bad one (so most vectors get past parsing)."""
    return st.one_of(good, good, good, st.one_of(*bad, junk))


integers = mostly(
    st.integers(min_value=1, max_value=9000).map(str),
    st.integers(min_value=-3, max_value=10**7).map(str),
    st.sampled_from(["1" + "0" * 400, "9" * 30, "2.5", "1_000", " 8", "0x10"]),
)
sizes = mostly(
    st.sampled_from(["0", "512MiB", "0.5GiB", "1GB", "24GB", "2TB"]),
    st.sampled_from(["512", "-1GiB", "nanGiB", "1e400GiB", "1e30GiB", "0.000001B"]),
)


def words(choices: list[str]) -> st.SearchStrategy[str]:
    """A valid word, a comma list of them, or junk."""
    one = st.sampled_from(choices)
    return mostly(one, st.lists(one, min_size=2, max_size=3).map(",".join))


OPTIONS: dict[str, st.SearchStrategy[str] | None] = {
    "--mode": mostly(st.sampled_from(["inference", "training"]), st.just("serve")),
    "--dtype": words(FORMATS),
    "--kv-dtype": words(FORMATS),
    "--batch": st.one_of(integers, st.sampled_from(["1,4", "2,0", "1,,2"])),
    "--seq": integers,
    "--attention": st.sampled_from(["flash", "eager", "sdpa"]),
    "--logits": st.sampled_from(["last", "all", "some"]),
    "--precision": st.sampled_from(["mixed", "pure", "amp", "half"]),
    "--optimizer": st.sampled_from(["adamw", "sgd", "adafactor", "lion"]),
    "--optimizer-impl": st.sampled_from(["foreach", "fused", "loop"]),
    "--checkpointing": st.sampled_from(["none", "full", "selective", "most"]),
    "--grad-checkpointing": None,
    "--lora-rank": integers,
    "--dp": integers,
    "--tp": integers,
    "--pp": integers,
    "--zero": integers,
    "--cuda-context": sizes,
    "--allocator-reserve": st.sampled_from(["0", "0.05", "0.5", "1", "-0.1", "nan", "x"]),
    "--gpu": st.one_of(st.sampled_from(GPUS), junk),
    "--vram": sizes,
    "--gpus": integers,
    "--goal": st.sampled_from(["context", "quality", "speed"]),
    "--params-from": st.sampled_from(["config", "safetensors", "header"]),
    "--gpu-memory-utilization": mostly(st.sampled_from(["0.9", "0.5", "1"]), st.just("1.5")),
    "--max-model-len": mostly(st.sampled_from(["auto", "4096", "131072"]), integers),
    "--max-num-seqs": integers,
    "--max-num-batched-tokens": integers,
    "--block-size": integers,
    "--kv-cache-memory": sizes,
    "--json": None,
}


@st.composite
def argvs(draw) -> list[str]:
    command = draw(st.sampled_from(["estimate", "fit", "fit", "serve", "models", "gpus", "x"]))
    if command not in ("estimate", "fit", "serve"):
        return [command, *draw(st.lists(st.sampled_from(["--json", "--help", "-1"]), max_size=2))]
    argv = [command, draw(mostly(st.sampled_from(MODELS)))]
    for option in draw(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=5, unique=True)):
        value = OPTIONS[option]
        argv += [option] if value is None else [option, draw(value)]
    if command in ("fit", "serve") and "--gpu" not in argv and "--vram" not in argv:
        argv += draw(st.sampled_from([["--gpu", g] for g in GPUS] + [[]]))
    return argv


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@settings(
    max_examples=250,
    deadline=3000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(argvs())
def test_an_answer_or_one_error_line(argv: list[str]) -> None:
    code, out, err = run(argv)
    if code == 0:
        assert out and not err, (argv, err)
        if "--json" in argv and "--help" not in argv:
            json.loads(out)
    else:
        assert code == 2, (argv, code, err)
        assert not out, argv
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("gpumem"), (argv, err)
        assert "error" in lines[0], (argv, err)


@st.composite
def workloads(draw) -> dict[str, object]:
    """Settings of a workload, valid or not, as the API takes them."""
    mode = draw(st.sampled_from(["inference", "training"]))
    chosen: dict[str, object] = {"mode": mode}
    chosen["dtype"] = draw(st.sampled_from(FORMATS))
    if draw(st.booleans()):
        chosen["batch"] = draw(st.integers(min_value=1, max_value=64))
    if draw(st.booleans()):
        chosen["seq"] = draw(st.integers(min_value=1, max_value=40_000))
    if mode == "inference" and draw(st.booleans()):
        chosen["kv_dtype"] = draw(st.sampled_from(FORMATS))
    if mode == "training":
        if draw(st.booleans()):
            chosen["checkpointing"] = draw(st.sampled_from(["none", "full", "selective"]))
        if draw(st.booleans()):
            chosen["lora_rank"] = draw(st.sampled_from([8, 64]))
        if draw(st.booleans()):
            chosen["dp"], chosen["zero"] = draw(st.sampled_from([(8, 1), (8, 2), (8, 3)]))
    if draw(st.booleans()):
        chosen["tp"] = draw(st.sampled_from([1, 2, 4, 3]))
    return chosen


def flags(chosen: dict[str, object]) -> list[str]:
    return [w for k, v in chosen.items() for w in (f"--{k.replace('_', '-')}", str(v))]


@settings(max_examples=120, deadline=3000, derandomize=True)
@given(st.sampled_from(MODELS), workloads())
def test_estimate_json_is_the_api(model: str, chosen: dict[str, object]) -> None:
    from gpumem import estimate
    from gpumem.report import estimate_json, to_json

    code, out, err = run(["estimate", model, *flags(chosen), "--json"])
    try:
        expected = to_json(estimate_json(estimate(model, **chosen)))
    except GpumemError:
        assert code == 2 and len(err.splitlines()) == 1
    else:
        assert code == 0 and out == expected


@settings(max_examples=30, deadline=5000, derandomize=True)
@given(st.sampled_from(MODELS), st.sampled_from(GPUS), workloads())
def test_fit_json_is_the_api(model: str, gpu: str, chosen: dict[str, object]) -> None:
    from gpumem.report import fit_json, to_json
    from gpumem.solve import answer

    code, out, err = run(["fit", model, "--gpu", gpu, *flags(chosen), "--json"])
    try:
        expected = to_json(fit_json(answer(model, gpu, **chosen)))
    except GpumemError:
        assert code == 2 and len(err.splitlines()) == 1
    else:
        assert code == 0 and out == expected


@settings(max_examples=60, deadline=3000, derandomize=True)
@given(
    st.sampled_from(MODELS),
    st.sampled_from(["--batch", "--seq", "--tp", "--pp", "--dp", "--lora-rank", "--gpus"]),
    st.integers(min_value=1, max_value=10**500),
)
def test_any_size_of_number(model: str, option: str, number: int) -> None:
    """A count of any size is answered or refused in one line (no overflow, no hang)."""
    command = ["fit", model, "--gpu", "h200"] if option == "--gpus" else ["estimate", model]
    mode = ["--mode", "training"] if option in ("--dp", "--lora-rank") else []
    code, out, err = run([*command, *mode, option, str(number)])
    assert (code == 0 and out and not err) or (code == 2 and len(err.splitlines()) == 1), err
