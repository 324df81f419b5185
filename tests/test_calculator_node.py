"""The site's calculator (generated formulas + engine, run by Node) equals the Python package
to the byte: every result of `gpumem fit --json`, `gpumem estimate --json` and
`gpumem offload --json` and `gpumem serve --json`, with Python's number types, on random
catalog models, workloads, placements and launches and on every model's defaults."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gpumem.calcdata import calculator_data, model_entry
from gpumem.catalog import catalog_entry, load_model, model_names
from gpumem.cli import _budget
from gpumem.errors import GpumemError
from gpumem.estimate import estimate
from gpumem.hardware import get_gpu, gpu_names
from gpumem.modelspec import from_config
from gpumem.offload import KV_TYPES, plan
from gpumem.precision import format_names, get_format
from gpumem.report import estimate_json, fit_json, offload_json, serve_json, to_json
from gpumem.serve import serve
from gpumem.solve import answer
from gpumem.speed import decode_ceiling
from gpumem.workload import Workload, optimizer_names

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "node" / "calculator_cases.js"
NODE = shutil.which("node")
RANDOM_CASES = 10_000

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (apt-get nodejs)")


def _python(case: dict) -> dict:
    """What the Python package answers for ``case`` (the runner's output format)."""
    try:
        work = Workload(**case["settings"])
        if case["what"] == "estimate":
            data = estimate_json(estimate(case["model"], work))
            del data["model"]
            return data
        gpu = _budget(case["vram"]) if "vram" in case else case["gpu"]
        result = answer(case["model"], gpu, work)
        data = fit_json(result)
        del data["estimate"]["model"]
        if work.mode == "inference":
            # decode_ceiling refuses a GPU known only by its memory; the page shows no ceiling
            data["decode_tokens_per_second"] = (
                decode_ceiling(case["model"], gpu, result.fit.estimate.workload)
                if result.fit.gpu.bandwidth_bytes_per_s
                else None
            )
        return data
    except GpumemError as error:
        return {"error": str(error.message), "hint": str(error.hint) if error.hint else None}


def _tagged(value: object) -> object:
    """A setting for the runner: an int as ``{"int": digits}`` (JSON cannot tell 7 from 7.0)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"int": str(value)}
    if isinstance(value, dict):  # a setting made of settings (vLLM's --speculative-config)
        return {k: _tagged(v) for k, v in value.items()}
    return value


def _node(
    cases: list[dict], runner: Path = RUNNER, key: str = "settings"
) -> tuple[list[dict], float]:
    """What ``runner`` answers for ``cases`` (their ``key`` holds the options), and its time."""
    tagged = [{**case, key: {k: _tagged(v) for k, v in case[key].items()}} for case in cases]
    payload = json.dumps({"data": calculator_data(), "cases": tagged})
    run = subprocess.run(
        [NODE, str(runner)], input=payload, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    timing = json.loads(run.stderr.strip().splitlines()[-1])
    return [json.loads(line) for line in run.stdout.splitlines()], timing["ms"]


def _same(a: object, b: object, where: str = "") -> str | None:
    """Where ``a`` and ``b`` differ in value or Python type (int vs float), or None."""
    if type(a) is not type(b):
        return f"{where}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{where}: keys {list(a)} != {list(b)}"
        for key in a:
            found = _same(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return None
    return None if a == b else f"{where}: {a!r} != {b!r}"


def _workload(rng: random.Random, context: int) -> dict:
    """Random workload settings, most of them valid, some not (errors must agree too)."""
    training = rng.random() < 0.45
    s: dict[str, object] = {"mode": "training" if training else "inference"}
    formats = format_names()
    lora = training and rng.random() < 0.3
    if training and not lora:
        s["dtype"] = rng.choice(["bf16", "fp16", "fp32", "bf16", "bf16"])
    elif lora:
        # mostly a base LoRA takes (QLoRA's nf4 among them), some it refuses
        valid = rng.random() < 0.95
        s["dtype"] = rng.choice(
            ["nf4", "bf16", "bf16", "bf16", "fp16", "fp32"] if valid else formats
        )
    else:
        s["dtype"] = rng.choice(formats)
    if not training and rng.random() < 0.4:
        s["kv_dtype"] = rng.choice(formats)
    s["batch"] = rng.choice([1, 1, 2, 4, 8, rng.randint(1, 512), rng.randint(1, 5000)])
    if rng.random() < 0.8:
        longest = context if rng.random() < 0.95 else 2 * context  # a few too long
        s["seq"] = rng.choice([rng.randint(1, min(4096, longest)), rng.randint(1, longest)])
    s["attention"] = rng.choice(["flash", "flash", "eager"])
    if training:
        if rng.random() < 0.5:
            precisions = ["pure"] if s["dtype"] == "fp32" else ["mixed", "pure", "amp"]
            s["precision"] = rng.choice(precisions)
        if rng.random() < 0.5:
            s["optimizer"] = rng.choice(optimizer_names())
        if rng.random() < 0.3:
            s["optimizer_impl"] = rng.choice(["foreach", "fused"])
        if rng.random() < 0.5:
            s["checkpointing"] = rng.choice(["none", "full", "selective"])
        if lora:
            s["lora_rank"] = rng.choice([4, 8, 16, 64, 128])
            if rng.random() < 0.2:
                s["adapter_dtype"] = rng.choice(["fp32", "bf16", "bf16", "fp16", "fp8"])
            if rng.random() < 0.2:
                s["lora_dropout"] = rng.choice([0.0, 0.05, 0.1])
        s["zero"] = rng.choice([0, 0, 1, 2, 3])
        s["dp"] = rng.choice([1, 1, 2, 8, 64])
    elif rng.random() < 0.3:
        s["logits"] = rng.choice(["last", "all"])
    if rng.random() < 0.02:  # refused in training and for most models; counted for gpt-oss
        s["weights_as_shipped"] = True
    s["tp"] = rng.choice([1, 1, 1, 2, 4, 8]) if rng.random() < 0.97 else 3
    s["pp"] = rng.choice([1, 1, 1, 2, 4])
    if training and not lora and rng.random() < 0.2:  # FSDP2: stage 2 or 3 over dp alone
        s.update(fsdp=True, zero=rng.choice([2, 3]), tp=1, pp=1)
        if s.get("precision") == "amp":  # FSDP2 takes its own mixed precision instead
            s["precision"] = "mixed"
    if rng.random() < 0.3:
        s["cuda_context"] = rng.choice([0, rng.randint(0, 2**31)])
    if rng.random() < 0.3:
        s["allocator_reserve"] = rng.choice([0.0, round(rng.random() * 0.3, 3), rng.random() / 2])
    if rng.random() < 0.02:  # invalid on purpose
        s[rng.choice(["zero", "batch", "precision"])] = rng.choice([0, 7, "turbo"])
    return s


def _cases() -> list[dict]:
    rng = random.Random(20261129)
    models, gpus = model_names(), gpu_names()
    cases = []
    for model in ("gpt-oss-20b", "gpt-oss-120b", "deepseek-v3"):  # weights as shipped
        settings = {"weights_as_shipped": True, "pp": 4}
        cases.append({"model": model, "gpu": "h100-sxm", "settings": settings, "what": "estimate"})
    for model in models:  # every model's defaults
        for gpu in ("h100-sxm", "rtx-4090"):
            cases.append({"model": model, "gpu": gpu, "settings": {}, "what": "answer"})
            cases.append(
                {"model": model, "gpu": gpu, "settings": {"mode": "training"}, "what": "answer"}
            )
        cases.append({"model": model, "gpu": gpus[0], "settings": {}, "what": "estimate"})
    for _ in range(RANDOM_CASES):
        model = rng.choice(models)
        case = {
            "model": model,
            "gpu": rng.choice(gpus),
            "settings": _workload(rng, load_model(model).max_context),
            "what": "answer" if rng.random() < 0.3 else "estimate",
        }
        if case["what"] == "answer" and rng.random() < 0.25:
            # a GPU typed by its memory, as `gpumem fit --vram` takes it
            case["vram"] = _typed_size(rng)
            case["gpu"] = _given_gpu(case["vram"])
        cases.append(case)
    return cases


def _both(
    cases: list[dict], python: Callable[[dict], dict], runner: Path = RUNNER, key: str = "settings"
) -> tuple[list[dict], float, float]:
    """Python's answers to ``cases``, checked equal to Node's; the seconds and ms each took."""
    started = time.perf_counter()
    expected = [python(case) for case in cases]
    python_s = time.perf_counter() - started
    got, node_ms = _node(cases, runner, key)
    assert len(got) == len(cases)
    differences = [
        (case, found)
        for case, e, g in zip(cases, expected, got, strict=True)
        if (found := _same(e, g))
    ]
    assert not differences, f"{len(differences)} differ; first: {differences[:3]}"
    return expected, python_s, node_ms


def test_node_engine_equals_python_to_the_byte() -> None:
    cases = _cases()
    expected, python_s, node_ms = _both(cases, _python)
    errors = sum("error" in e for e in expected)
    answered = sum("fits" in e for e in expected)
    estimated = sum("total_bytes" in e for e in expected)
    # The cases must exercise what they claim to: answers, estimates, and some errors.
    assert answered > len(cases) // 5 and estimated > len(cases) // 2
    assert 0 < errors < len(cases) // 8
    typed = [e for c, e in zip(cases, expected, strict=True) if "vram" in c and "fits" in e]
    assert len(typed) > len(cases) // 100
    assert sum(e["fits"] for e in typed) > len(typed) // 10
    print(
        f"{len(cases)} cases ({answered} fit answers, {estimated} estimates, {errors} errors) "
        "equal; "
        f"Python {python_s:.1f} s, Node {node_ms / 1000:.1f} s"
    )


def _python_config(text: str) -> dict:
    try:
        return model_entry(from_config(json.loads(text), name="m", source="config.json"))
    except GpumemError as error:
        return {"error": str(error.message)}


def _config_cases() -> list[str]:
    """Every catalog config, and each with one key removed or set to a wrong value."""
    rng = random.Random(404)
    wrong = ["x", 4096.5, -1, 0, True, None, 10**13, [1, "a"], {"a": 1}, 2.0, 3]
    cases = []
    for name in model_names():
        config = catalog_entry(name)["config"]
        cases.append(json.dumps(config))
        for key in config:
            cases.append(json.dumps({k: v for k, v in config.items() if k != key}))
            if isinstance(config[key], dict):  # nested configs: mutated key by key below
                continue
            for value in rng.sample(wrong, 3):
                cases.append(json.dumps({**config, key: value}))
    cases += [json.dumps(v) for v in ([], "config", 3, {"model_type": "nope"}, {})]
    fp8 = {"quant_method": "fp8", "weight_block_size": [128, 128]}
    for quantization in (  # the quantization_config read for weights as shipped
        None,
        "x",
        [],
        {},
        {"quant_method": 5},
        {"quant_method": "gptq", "bits": 4},
        {"quant_method": "mxfp4", "modules_to_not_convert": [1]},
        {"quant_method": "mxfp4", "modules_to_not_convert": "lm_head"},
        {"quant_method": "fp8"},
        fp8,
        {**fp8, "weight_block_size": [64, 64]},
        {**fp8, "weight_block_size": [128.0, 128]},
        {**fp8, "weight_block_size": None},
        {**fp8, "fmt": "e5m2"},
        {**fp8, "modules_to_not_convert": ["model.layers.3.mlp", "q_proj", "*", ""]},
        {**fp8, "modules_to_not_convert": ["model.layers.*.mlp", "model.norm", "lm_head"]},
        {**fp8, "modules_to_not_convert": ["model.layers.*.self_attn", "mlp.shared_experts"]},
        *_modelopt_cases(),
    ):
        for name in ("gpt-oss-20b", "deepseek-v3", "qwen3-30b-a3b", "qwen3.8-27b"):
            config = catalog_entry(name)["config"]
            cases.append(json.dumps({**config, "quantization_config": quantization}))
    return cases


def _modelopt_cases() -> list[object]:
    """ModelOpt quantization_configs in both shapes, their exclusions placed or not."""
    delta_net = [i for i in range(64) if i % 4 != 3]
    inputs = [
        f"model.language_model.layers.{i}.linear_attn.{p}"
        for i in delta_net
        for p in ("conv1d", "in_proj_a", "in_proj_b", "in_proj_qkv", "in_proj_z")
    ]
    whole = [f"model.layers.{i}.linear_attn*" for i in delta_net]
    nvfp4 = {"quant_method": "modelopt", "quant_algo": "NVFP4"}
    return [
        nvfp4,
        {**nvfp4, "ignore": ["lm_head", "embed_tokens", "model.visual*", "mtp*", *inputs]},
        {**nvfp4, "ignore": inputs[5:]},
        {**nvfp4, "ignore": ["q_proj", "vision_tower*", "", "model.layers.99.mlp", "l?_head"]},
        {**nvfp4, "ignore": ["model.layers.*.self_attn", "*experts*", "mlp.shared_expert*"]},
        {**nvfp4, "ignore": "lm_head"},
        {**nvfp4, "group_size": 32},
        {**nvfp4, "group_size": "16"},
        {**nvfp4, "group_size": True},
        {**nvfp4, "quant_algo": ["NVFP4"]},
        {"quant_method": "modelopt", "quant_algo": "fp8", "ignore": ["lm_head", *whole]},
        {"quant_method": "modelopt", "quantization": {"exclude_modules": whole}},
        {"quant_method": "modelopt", "quant_algo": "MIXED_PRECISION"},
        {"quant_method": "modelopt", "quantization": {"quant_algo": "NVFP4", "group_size": 16}},
        {"quant_method": "modelopt", "quantization": {"quant_algo": "FP8", "exclude_modules": []}},
        {"quant_method": "modelopt", "quantization": ["NVFP4"]},
        *_mixed_cases(),
    ]


def _mixed_cases() -> list[object]:
    """MIXED_PRECISION configs: a format a module, in all layers or some, in either shape."""
    nvfp4, fp8 = {"quant_algo": "W4A16_NVFP4", "group_size": 16}, {"quant_algo": "fp8"}
    every = {}
    for i in range(64):
        for root in ("model.layers", "model.language_model.layers"):
            every[f"{root}.{i}.mlp.experts"] = nvfp4
            every |= {f"{root}.{i}.self_attn.{x}_proj": fp8 for x in "qkvo"}
            every |= {f"{root}.{i}.mlp.{x}_proj": nvfp4 for x in ("gate", "up", "down")}
    some = {"model.layers.0.mlp.experts.0.up_proj": nvfp4, "lm_head": nvfp4, "mtp.fc": fp8}
    odd = {"model.layers.0.mlp.gate": fp8, "model.layers.1.mlp.experts": {"quant_algo": "MXFP8"}}
    mixed = {"quant_method": "modelopt", "quant_algo": "MIXED_PRECISION"}
    return [
        {**mixed, "quantized_layers": every},
        {**mixed, "quantized_layers": {**every, "lm_head": nvfp4}, "ignore": ["self_attn"]},
        {**mixed, "quantized_layers": {**every, **some}},
        {**mixed, "quantized_layers": {**every, **odd}},
        {**mixed, "quantized_layers": every, "group_size": 32},
        {"quant_method": "modelopt", "quantization": {**mixed, "quantized_layers": some}},
        {**mixed, "quantized_layers": {"lm_head": {"group_size": 16}}},
        {**mixed, "quantized_layers": ["lm_head"]},
    ]


def test_pasted_configs_are_read_as_python_reads_them() -> None:
    cases = _config_cases()
    payload = json.dumps({"data": calculator_data(), "cases": cases})
    run = subprocess.run(
        [NODE, str(ROOT / "tests" / "node" / "config_cases.js")],
        input=payload,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    got = [json.loads(line) for line in run.stdout.splitlines()]
    differences = [
        (text, found)
        for text, g in zip(cases, got, strict=True)
        if (found := _same(_python_config(text), g))
    ]
    assert not differences, f"{len(differences)} of {len(cases)} differ; first: {differences[:3]}"
    assert sum("error" in g for g in got) > len(cases) // 4


# --- the llama.cpp planner (gpumem.offload) --------------------------------------------------
OFFLOAD_CASES = 3_000
#: GGUF formats a local user picks, and the 16-bit ones llama.cpp also loads.
LOCAL_DTYPES = [n for n in format_names() if get_format(n).kind == "gguf"] + ["fp16", "bf16"]


def _python_offload(case: dict) -> dict:
    try:
        gpus = [g if isinstance(g, str) else _budget(g["id"]) for g in case["gpus"]]
        placement = plan(case["model"], gpus, **case["options"])
        return json.loads(to_json(offload_json(placement)))
    except GpumemError as error:
        return {"error": str(error.message), "hint": str(error.hint) if error.hint else None}


def _offload_options(rng: random.Random, layers: int, context: int) -> dict:
    """Random planner options, most valid, some not (the errors must agree too)."""
    o: dict[str, object] = {}
    if rng.random() < 0.8:
        o["dtype"] = rng.choice(LOCAL_DTYPES)
    if rng.random() < 0.8:
        o["ctx"] = rng.choice([512, 4096, 8192, 16384, 32768, rng.randint(1, context)])
    if rng.random() < 0.6:
        o["kv_dtype"] = rng.choice(KV_TYPES)
    if rng.random() < 0.15:
        o["flash_attn"] = False
    if rng.random() < 0.2:
        o["batch"] = rng.choice([512, 1024, 4096])
    if rng.random() < 0.2:
        o["ubatch"] = rng.choice([1, 128, 256, 512])
    if rng.random() < 0.5:
        o["ram"] = rng.choice([16, 32, 64, 128]) * 10**9 + rng.choice([0, rng.randint(0, 2**30)])
    if rng.random() < 0.25:
        o["ngl"] = rng.randint(0, layers + 1) if rng.random() < 0.97 else layers + 2
    if rng.random() < 0.25:
        o["n_cpu_moe"] = rng.randint(0, layers) if rng.random() < 0.97 else -1
    if rng.random() < 0.1:
        o["ram_bandwidth"] = rng.choice([51_200_000_000, 120 * 10**9])
    if rng.random() < 0.2:
        o["swa_full"] = True
    return o


def _typed_size(rng: random.Random) -> str:
    """A GPU's memory as a reader types it for ``--vram``: GB or GiB, spaced or not, and
    now and then a size the command line refuses."""
    amount = rng.choice(["4", "8", "12", "16", "24", "40", "48", "80", "141", "0.5", "23.5"])
    return amount + rng.choice(["GB", "GiB", " GB", "TB", "GiB", "GB"])


def _offload_cases() -> list[dict]:
    rng = random.Random(20261130)
    models = model_names()
    discrete = [g for g in gpu_names() if not get_gpu(g).unified_memory]
    unified = [g for g in gpu_names() if get_gpu(g).unified_memory]
    cases = [{"model": m, "gpus": ["rtx-4090"], "options": {}} for m in models]
    cases += [{"model": m, "gpus": [unified[0]], "options": {}} for m in models]
    for _ in range(OFFLOAD_CASES):
        model = rng.choice(models)
        spec = load_model(model)
        roll = rng.random()
        if roll < 0.2:
            gpus = [rng.choice(unified)] + ([rng.choice(discrete)] if rng.random() < 0.1 else [])
        else:
            gpus = [rng.choice(discrete) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))]
        if rng.random() < 0.25:
            # GPUs typed by their memory (`gpumem offload --vram`), alone or beside others
            typed = [_given_gpu(_typed_size(rng)) for _ in range(rng.choice([1, 1, 2]))]
            gpus = typed + gpus[: rng.choice([0, 0, 1])] if rng.random() < 0.7 else gpus + typed
        options = _offload_options(rng, spec.n_layers, spec.max_context)
        if gpus[0] in unified and rng.random() < 0.9:
            options.pop("ram", None)
        cases.append({"model": model, "gpus": gpus, "options": options})
    return cases


def test_node_planner_equals_python_to_the_byte() -> None:
    """Every figure of `gpumem offload --json` (bytes per device, flags, ceilings, largest
    context), and every error, from the page's planner as from the package's."""
    cases = _offload_cases()
    runner = ROOT / "tests" / "node" / "offload_cases.js"
    expected, python_s, node_ms = _both(cases, _python_offload, runner, "options")
    placed = [e for e in expected if "error" not in e]
    errors = len(expected) - len(placed)
    # The cases cover what they claim: fitting and failing placements, experts on the CPU,
    # several GPUs, unified memory, offloads of part of the layers, and some errors.
    assert sum(e["fits"] for e in placed) > len(placed) // 5
    assert sum(not e["fits"] for e in placed) > len(placed) // 20
    assert sum(e["n_cpu_moe"] > 0 for e in placed) > 50
    assert sum(len(e["split"]) > 1 for e in placed) > len(placed) // 5
    assert sum(e["unified"] for e in placed) > len(placed) // 10
    assert sum(e["decode_ceiling"] is None for e in placed) > len(placed) // 10
    layers = [sum(len(d["layers"]) for d in e["devices"]) for e in placed]
    assert sum(0 < e["ngl"] <= n for e, n in zip(placed, layers, strict=True)) > 50
    assert 0 < errors < len(cases) // 5
    print(
        f"{len(cases)} placements ({errors} errors) equal; "
        f"Python {python_s:.1f} s, Node {node_ms / 1000:.1f} s"
    )


# --- vLLM's startup figures (gpumem.serve) -----------------------------------------------------
SERVE_CASES = 2_000


def _python_serve(case: dict) -> dict:
    try:
        gpu = _budget(case["vram"]) if "vram" in case else case["gpu"]
        result = serve(case["model"], gpu, **case["options"])
        data = json.loads(to_json(serve_json(result)))
        data["concurrency"] = [result.concurrency(n) for n in case["lengths"]]
        return data
    except GpumemError as error:
        return {"error": str(error.message), "hint": str(error.hint) if error.hint else None}


def _serve_options(rng: random.Random, context: int, vision: bool, mtp: bool = False) -> dict:
    """Random launch settings, most valid, some not (the errors must agree too); text only
    mostly for a model with a ``vision`` tower, speculative decoding mostly for one with
    ``mtp`` layers."""
    o: dict[str, object] = {}
    if rng.random() < 0.5:
        o["tp"] = rng.choice([1, 2, 4, 8]) if rng.random() < 0.97 else 3
    if rng.random() < 0.2:
        o["pp"] = rng.choice([1, 2])
    if rng.random() < 0.5:
        o["dtype"] = rng.choice(["bf16", "fp16", "fp8_e4m3", "int4", "int8", "mxfp4"])
    if rng.random() < 0.3:
        o["kv_dtype"] = rng.choice(["fp8_e4m3", "fp16", "bf16"])
    if rng.random() < 0.3:
        o["gpu_memory_utilization"] = rng.choice([0.5, 0.8, 0.95, 1.0, rng.random(), 1.5])
    if rng.random() < 0.6:
        longest = context if rng.random() < 0.95 else 2 * context
        o["max_model_len"] = rng.choice(["auto", 2048, 8192, rng.randint(1, longest)])
    if rng.random() < 0.2:
        o["max_num_seqs"] = rng.choice([1, 16, 256, 512])
    if rng.random() < 0.2:
        o["max_num_batched_tokens"] = rng.choice([512, 2048, 8192, 16384])
    if rng.random() < 0.15:
        o["block_size"] = rng.choice([16, 32, 64])
    if rng.random() < 0.1:
        o["kv_cache_memory"] = rng.choice([2**30, 20 * 2**30, rng.randint(0, 2**36)])
    if rng.random() < 0.1:
        o["cudagraph_memory"] = rng.choice([0, 2**29, rng.randint(0, 2**31), -1])
    if rng.random() < 0.45:
        # the page's choice (on, off, vLLM's default) as the command line passes it; and a value
        # from an edited address, which serve() names
        o["enable_prefix_caching"] = rng.choice([True, False, None, True, False, None, "yes"])
    if rng.random() < (0.5 if vision else 0.04):
        # text only or not, as the command line passes --language-model-only; and a value from
        # an edited address, which serve() names
        o["language_model_only"] = rng.choice([True, True, False, "yes"])
    if rng.random() < 0.4:
        # every row, releases of each generation (and its edges), and names serve() refuses
        o["engine_id"] = rng.choice(
            ["vllm", "vllm-0.17", "vllm-0.13", "vllm-0.8", "0.19.1", "0.17", "0.16.0", "0.13.0"]
            + ["0.12", "0.8.5", " 0.10.2 ", "1.0", "0.8.4", "0.8", "vllm-0.7", "0.19.1.2"]
            + ["v0.19", "0.20.2", "0.21.0", "0.29.1rc1.dev17+gd2d649e67.d20260913"]
            + ["0.26.1rc1.dev608+g99a10304d", "0.21rc1", "0.21.0x", "0.25.0", "0.26.0"]
            + ["0.22.0", "0.24.0", "0.27.1", "0.28.0", "0.29.0", "0.30.0", "0.31.0"]
            + ["0.32.0", "0.33.0", "0.33.1rc1"]
        )
    if rng.random() < 0.25:
        # vLLM's model runner as VLLM_USE_V2_MODEL_RUNNER picks it; and a name serve() refuses
        o["model_runner"] = rng.choice(["auto", "v1", "v2", "v2", "V2"])
    if rng.random() < (0.4 if mtp else 0.01):
        # vLLM's MTP drafter, with or without its token count; and what serve() refuses
        tokens = {"num_speculative_tokens": rng.choice([1, 2, 3, 4])} if rng.random() < 0.8 else {}
        o["speculative_config"] = {"method": "mtp", **tokens}
        if rng.random() < 0.1:
            o["speculative_config"] = rng.choice(
                [
                    {"method": "eagle3", "num_speculative_tokens": 3},
                    {"method": "mtp", "num_speculative_tokens": 0},
                    {"method": "mtp", "draft_tensor_parallel_size": 1},
                ]
            )
    if rng.random() < (0.8 if o.get("model_runner") == "v2" else 0.08):
        # a first start or a restart with the compile cache (refused on the first runner);
        # and a state serve() refuses
        o["compile_cache"] = rng.choice(["cold", "warm", "warm", "hot"])
    return o


def _given_gpu(text: str) -> dict:
    """A GPU typed by its memory (``--vram``) as the page builds it, for the runner."""
    gpu = _budget(text)
    fields = ("id", "name", "memory_basis", "memory_bytes", "bandwidth_bytes_per_s")
    more = ("unified_memory", "multiprocessors", "compute_capability")
    return {
        **{key: _tagged(getattr(gpu, key)) for key in fields},
        **{key: getattr(gpu, key) for key in more},
        "gpu_working_set_bytes": None,
        "dense_peak_tflops": None,
    }


def test_node_serving_equals_python_to_the_byte() -> None:
    """Every figure of `gpumem serve --json` (budget, weights, profiled peak, KV-cache memory,
    blocks, tokens, concurrency, the longest request) and the concurrency at other lengths,
    from the page's code as from the package's; errors too."""
    rng = random.Random(20261131)
    models, gpus = model_names(), gpu_names()
    lengths = [1024, 4096, 16384, 65536]
    cases = [{"model": m, "gpu": "h100-sxm", "options": {}, "lengths": lengths} for m in models]
    # every vision-language model of the catalog text only (vLLM's --language-model-only)
    vision = [m for m in models if "vision_tower" in load_model(m).extra]
    text_only = {"model": "", "gpu": "h100-sxm", "options": {"language_model_only": True}}
    cases += [{**text_only, "model": m, "lengths": lengths} for m in vision]
    # vLLM under WSL2 (the card's whole memory) or on Linux, as --wsl2 passes it, and a value
    # from an edited address, which serve() names; drawn by a generator of its own, which
    # leaves the other settings as drawn without it
    platforms = random.Random(20261129)
    for _ in range(SERVE_CASES):
        model = rng.choice(models)
        spec = load_model(model)
        options = _serve_options(rng, spec.max_context, model in vision, "mtp_layers" in spec.extra)
        drawn = platforms.random()
        if drawn < 0.3:
            options["wsl2"] = platforms.choice([True, False]) if drawn > 0.02 else "yes"
        case = {"model": model, "gpu": rng.choice(gpus), "options": options, "lengths": lengths}
        if rng.random() < 0.2:
            # a GPU typed by its memory, as `gpumem serve --vram` takes it
            case["vram"] = _typed_size(rng)
            case["gpu"] = _given_gpu(case["vram"])
        cases.append(case)
    runner = ROOT / "tests" / "node" / "serve_cases.js"
    expected, python_s, node_ms = _both(cases, _python_serve, runner, "options")
    started = [e for e in expected if "error" not in e]
    errors = len(expected) - len(started)
    assert sum(e["fits"] for e in started) > len(started) // 3
    assert sum(not e["fits"] for e in started) > len(started) // 20
    assert sum(e["sliding_groups"] > 0 for e in started) > 20
    assert sum("vram" in c for c in cases) > SERVE_CASES // 8
    assert sum(c["options"].get("engine_id", "vllm") != "vllm" for c in cases) > SERVE_CASES // 4
    assert 0 < errors < len(cases) * 2 // 5
    for choice in (True, False, None):
        chosen = [c for c in cases if c["options"].get("enable_prefix_caching", 1) is choice]
        assert len(chosen) > SERVE_CASES // 10
    drafted = [e for e in started if e["num_speculative_tokens"]]
    assert len(drafted) > 20 and sum(e["recurrent_groups"] > 0 for e in drafted) > 10
    runners = [e["model_runner"] for e in started]
    assert runners.count("v1") > 100 and runners.count("v2") > 100
    starts = [e["compile_cache"] for e in started]
    assert starts.count("cold") > 100 and starts.count("warm") > 30
    for platform in (True, False):
        pairs = zip(cases, expected, strict=True)
        chosen = [e for c, e in pairs if c["options"].get("wsl2") is platform]
        assert sum("error" not in e for e in chosen) > SERVE_CASES // 20
    named = [e for c, e in zip(cases, expected, strict=True) if c["options"].get("wsl2") == "yes"]
    assert all("error" in e for e in named) and sum("'yes'" in e["error"] for e in named) > 20
    modes = [e["mamba_cache_mode"] for e in started]
    assert modes.count("align") > 10 and modes.count("none") > 10
    asked = [
        (c, e)
        for c, e in zip(cases, expected, strict=True)
        if c["options"].get("language_model_only") is True
    ]
    assert sum("error" not in e for _, e in asked) > 40
    assert sum("error" in e and c["model"] not in vision for c, e in asked) > 20
    # Qwen3.8-27B without its vision tower: 460,730,096 parameters fewer, 2 bytes each in BF16
    full = expected[models.index("qwen3.8-27b")]["weights_bytes"]
    alone = expected[len(models) + vision.index("qwen3.8-27b")]["weights_bytes"]
    assert full - alone == 460_730_096 * 2
    print(
        f"{len(cases)} launches ({errors} errors) equal; "
        f"Python {python_s:.1f} s, Node {node_ms / 1000:.1f} s"
    )
