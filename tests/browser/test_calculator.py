"""The calculator as a reader uses it: inputs typed into the page give what `gpumem fit --json`
gives, the page address carries the inputs, errors read as the command line's, both languages,
served and from disk; a screenshot of each language."""

from __future__ import annotations

import json
import os
import shlex
import statistics
import subprocess
import sys

import pytest
from playwright.sync_api import Page

from gpumem.catalog import catalog_entry

from .conftest import LANGUAGES, REPOSITORY, SCREENSHOTS

#: Twenty readers' questions: what they type (field: value), alternately in either language.
COMBINATIONS = [
    {"model": "llama-3.1-8b", "gpu": "rtx-4090"},
    {"model": "qwen2.5-7b", "gpu": "rtx-4090", "dtype": "q4_k_m", "seq": "32768"},
    {"model": "llama-3.1-70b", "gpu": "h100-sxm", "dtype": "fp8_e4m3", "kv_dtype": "fp8_e4m3"},
    {"model": "mistral-7b-v0.1", "gpu": "a100-80gb", "mode": "training", "batch": "4"},
    {
        "model": "llama-2-70b",
        "gpu": "a100-80gb",
        "mode": "training",
        "dtype": "nf4",
        "lora_rank": "16",
    },
    {"model": "mixtral-8x7b", "gpu": "h100-sxm", "batch": "8", "seq": "4096"},
    {"model": "deepseek-v3", "gpu": "h200", "dtype": "fp8_e4m3", "tp": "8"},
    {"model": "gemma-2-9b", "gpu": "rtx-4090", "attention": "eager", "seq": "8192"},
    {
        "model": "gpt2-xl",
        "gpu": "rtx-4090",
        "mode": "training",
        "batch": "8",
        "checkpointing": "full",
    },
    {
        "model": "llama-3.2-3b",
        "gpu": "rtx-4090",
        "mode": "training",
        "precision": "amp",
        "optimizer": "adamw_8bit",
    },
    {"model": "qwen3-30b-a3b", "gpu": "h100-sxm", "logits": "all", "seq": "1024"},
    {"model": "llama-3.1-405b", "gpu": "h100-sxm", "tp": "8", "pp": "2"},
    {"model": "llama-3-8b", "gpu": "a100-80gb", "mode": "training", "dp": "8", "zero": "3"},
    {"model": "phi-3-mini-4k", "gpu": "rtx-4090", "cuda_context": "0", "allocator_reserve": "0"},
    {
        "model": "olmoe-1b-7b",
        "gpu": "rtx-4090",
        "mode": "training",
        "optimizer": "sgd",
        "optimizer_impl": "fused",
    },
    {"model": "qwen2.5-72b", "gpu": "h100-sxm", "dtype": "int4", "batch": "16"},
    {"model": "bert-base-uncased", "gpu": "rtx-4090", "batch": "64", "seq": "512"},
    {
        "model": "deepseek-v2-lite",
        "gpu": "rtx-4090",
        "mode": "training",
        "dtype": "bf16",
        "checkpointing": "selective",
        "precision": "pure",
    },
    {
        "model": "llama-3.2-1b",
        "gpu": "rtx-4090",
        "cuda_context": "1024",
        "allocator_reserve": "0.1",
    },
    {
        "model": "gemma-2-27b",
        "gpu": "h100-sxm",
        "mode": "training",
        "lora_rank": "8",
        "dtype": "bf16",
        "batch": "2",
    },
]
SELECTS = (
    "model",
    "gpu",
    "mode",
    "dtype",
    "kv_dtype",
    "attention",
    "logits",
    "precision",
    "optimizer",
    "optimizer_impl",
    "checkpointing",
    "zero",
)

READ_ANSWER = """(root) => {
  const q = (s) => root.querySelector(s);
  const components = {};
  for (const row of root.querySelectorAll("tr[data-component]")) {
    components[row.dataset.component] = row.dataset.bytes;
  }
  const value = (s, a) => (q(s) ? q(s).getAttribute(a) : null);
  return {
    error: q(".gc-error").hidden ? null : q(".gc-error").textContent,
    total_bytes: value(".gc-total", "data-bytes"),
    components: components,
    phase: value(".gc-phase", "data-phase"),
    fits: value(".gc-verdict", "data-fits"),
    headroom_bytes: value(".gc-verdict", "data-headroom"),
    layout_gpus: value(".gc-layout", "data-gpus"),
    max_batch: value(".gc-max-batch", "data-value"),
    max_context: value(".gc-max-context", "data-value"),
    command: q(".gc-command code") ? q(".gc-command code").textContent : null,
    update_ms: Number(root.dataset.updateMs),
  };
}"""


def _open(page: Page, root_url: str, language: str, state: str = "") -> None:
    page.goto(f"{root_url}{language}/calculator.html{state}")
    page.wait_for_selector(".gc-total, .gc-devices, .gc-log, .gc-error:not([hidden])")


def _type(page: Page, inputs: dict[str, str]) -> None:
    """Set the fields as a reader does: choose in lists, type in boxes."""
    form = page.locator(".gpumem-calculator form")
    mode = inputs.get("mode", "inference")
    form.locator("[name=mode]").select_option(mode)
    for name, value in inputs.items():
        field = form.locator(f"[name={name}]")
        if name in SELECTS:
            field.select_option(value)
        else:
            field.fill("")
            field.type(value)


def _answer(page: Page) -> dict:
    return page.locator(".gpumem-calculator").evaluate(READ_ANSWER)


def _cli(command: str, language: str = "en", cwd: object = None) -> subprocess.CompletedProcess:
    """Run a `gpumem …` command line with this checkout's package."""
    args = shlex.split(command)
    assert args[0] == "gpumem"
    env = {**os.environ, "GPUMEM_LANG": language, "PYTHONPATH": str(REPOSITORY)}
    return subprocess.run(
        [sys.executable, "-m", "gpumem", *args[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )


def _expected(command: str) -> dict:
    run = _cli(command + " --json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    e = data["estimate"]
    layout = data["layout"]
    return {
        "error": None,
        "total_bytes": str(e["total_bytes"]),
        "components": {k: str(v) for k, v in e["components"].items()},
        "phase": e["phase"],
        "fits": str(data["fits"]).lower(),
        "headroom_bytes": str(data["headroom_bytes"]),
        "layout_gpus": "" if layout is None else str(layout["gpus"]),
        "max_batch": "" if data["max_batch"] is None else str(data["max_batch"]),
        "max_context": "" if data["max_context"] is None else str(data["max_context"]),
    }


def _command_for(inputs: dict[str, str]) -> str:
    """The command line a reader would type for ``inputs`` (independent of the page's own)."""
    parts = ["gpumem", "fit", inputs["model"], "--gpu", inputs["gpu"]]
    for name, value in inputs.items():
        if name not in ("model", "gpu"):
            suffix = "MiB" if name == "cuda_context" else ""
            parts += [f"--{name.replace('_', '-')}", value + suffix]
    return " ".join(parts)


@pytest.mark.parametrize("index", range(len(COMBINATIONS)))
def test_typed_inputs_equal_the_command_line(page: Page, http_url: str, index: int) -> None:
    """Served over http; the tests below open the page from disk too."""
    inputs = COMBINATIONS[index]
    language = LANGUAGES[index % 2]
    _open(page, http_url, language)
    _type(page, inputs)
    got = _answer(page)
    expected = _expected(_command_for(inputs))
    assert {k: got[k] for k in expected} == expected
    # The page's own command line gives the same answer.
    assert _expected(got["command"]) == expected
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_address_round_trip(page: Page, root_url: str, language: str) -> None:
    _open(page, root_url, language)
    _type(page, COMBINATIONS[4])
    first, address = _answer(page), page.url
    assert "lora_rank=16" in address and "model=llama-2-70b" in address
    page.goto("about:blank")
    page.goto(address)
    page.wait_for_selector(".gc-total")
    assert page.locator("[name=lora_rank]").input_value() == "16"
    assert page.locator("[name=dtype]").input_value() == "nf4"
    again = _answer(page)
    assert {k: v for k, v in again.items() if k != "update_ms"} == {
        k: v for k, v in first.items() if k != "update_ms"
    }
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_errors_read_as_the_command_line_s(page: Page, root_url: str, language: str) -> None:
    """A workload the model cannot take shows the command line's own error line."""
    _open(page, root_url, language)
    inputs = {"model": "llama-3.1-8b", "gpu": "rtx-4090", "tp": "3"}
    _type(page, inputs)
    got = _answer(page)
    run = _cli(_command_for(inputs), language)
    assert run.returncode == 2
    assert got["error"] == run.stderr.strip()
    # What argparse refuses, the page refuses too, naming the text it was given.
    _type(page, {"model": "llama-3.1-8b", "gpu": "rtx-4090", "batch": "x"})
    assert "'x'" in _answer(page)["error"]
    assert _cli("gpumem fit llama-3.1-8b --gpu rtx-4090 --batch x", language).returncode == 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_gpu_typed_by_its_memory(page: Page, root_url: str, language: str) -> None:
    """A GPU typed by its memory (--vram) replaces the chosen one, in the answer, the command
    and the address; its bandwidth unknown, no decoding ceiling (—); a size without its unit
    reads as the command line's refusal."""
    command = "gpumem fit qwen2.5-7b --vram 12GiB --seq 32768"
    _open(page, root_url, language)
    _type(page, {"model": "qwen2.5-7b", "gpu": "rtx-4090", "vram": "12 GiB", "seq": "32768"})
    got = _answer(page)
    assert got["command"] == command
    expected = _expected(command)
    assert {k: got[k] for k in expected} == expected
    assert expected["fits"] == "false" and expected["layout_gpus"] == "2"
    assert page.locator("[name=gpu]").is_disabled()
    decode = page.locator(".gc-decode")
    assert decode.get_attribute("data-value") == "" and "—" in decode.inner_text()
    address = page.url
    assert "vram=12+GiB" in address
    page.goto("about:blank")
    page.goto(address)
    page.wait_for_selector(".gc-total")
    assert page.locator("[name=vram]").input_value() == "12 GiB"
    again = _answer(page)
    assert {k: v for k, v in again.items() if k != "update_ms"} == {
        k: v for k, v in got.items() if k != "update_ms"
    }
    for typed in ("12", "0GiB"):
        _type(page, {"vram": typed})
        run = _cli(f"gpumem fit qwen2.5-7b --vram {typed}", language)
        assert run.returncode == 2 and f"'{typed}'" in run.stderr
        assert f"'{typed}'" in _answer(page)["error"]
    assert not page.problems, "\n".join(page.problems)


def test_update_within_a_frame(page: Page, http_url: str) -> None:
    """One update for the heaviest models takes less than a frame (16 ms), after warm-up."""
    _open(page, http_url, "en")
    times = []
    for model, mode in [("llama-3.1-405b", "inference"), ("deepseek-v3", "training")]:
        _type(page, {"model": model, "gpu": "rtx-4090", "mode": mode})
        for batch in range(1, 12):
            page.locator("[name=batch]").fill(str(batch))
            times.append(_answer(page)["update_ms"])
    median = statistics.median(times[2:])
    print(f"calculator update: median {median:.2f} ms, max {max(times):.2f} ms")
    assert median <= 16


@pytest.mark.parametrize("language", LANGUAGES)
def test_screenshot(page: Page, http_url: str, language: str) -> None:
    _open(page, http_url, language, "#model=qwen2.5-7b&gpu=rtx-4090&dtype=q4_k_m&seq=32768")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"calculator-{language}.png", full_page=True)
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_pasted_config(page: Page, root_url: str, language: str, tmp_path) -> None:
    """A pasted config.json gives what `gpumem fit config.json` gives, and a broken one the
    command line's error line."""
    config = catalog_entry("qwen2.5-7b")["config"]
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    _open(page, root_url, language)
    _type(page, {"gpu": "rtx-4090", "dtype": "q4_k_m", "seq": "8192"})
    page.locator("[name=config]").fill(json.dumps(config, indent=1))
    got = _answer(page)
    assert got["command"].startswith("gpumem fit config.json --gpu rtx-4090")
    run = _cli(got["command"] + " --json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    expected = json.loads(run.stdout)
    assert got["total_bytes"] == str(expected["estimate"]["total_bytes"])
    assert got["max_context"] == str(expected["max_context"])
    del config["hidden_size"]
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    page.locator("[name=config]").fill(json.dumps(config))
    run = _cli("gpumem fit config.json --gpu rtx-4090", language, cwd=tmp_path)
    assert run.returncode == 2
    assert _answer(page)["error"] == run.stderr.strip()
    assert not page.problems, "\n".join(page.problems)


# --- the local question: llama.cpp on GPUs and the CPU ---------------------------------------
#: What a reader types in the local view, and the `gpumem offload` command that says the same.
LOCAL = [
    (
        {"model": "qwen3-30b-a3b", "gpu": "rtx-4070", "ram": "32GB", "ctx": "16384", "ctk": "q8_0"},
        "gpumem offload qwen3-30b-a3b --gpu rtx-4070 --ram 32GB --ctx 16384 --kv-dtype q8_0",
    ),
    (
        {
            "model": "llama-3.1-70b",
            "gpu": "rtx-4090",
            "gpus": "rtx-3090",
            "ram": "64GB",
            "gguf": "q4_0",
            "ngl": "60",
        },
        "gpumem offload llama-3.1-70b --gpu rtx-4090 --gpu rtx-3090 --ram 64GB --dtype q4_0 "
        "--ngl 60",
    ),
    (
        {"model": "gpt-oss-20b", "gpu": "m4-pro-64gb", "ctx": "32768", "fa": "off", "swa": "on"},
        "gpumem offload gpt-oss-20b --gpu m4-pro-64gb --ctx 32768 --no-flash-attn --swa-full",
    ),
    (
        {"model": "llama-3.1-8b", "vram": "12 GiB", "ctx": "32768"},
        "gpumem offload llama-3.1-8b --vram 12GiB --ctx 32768",
    ),
    (
        {"model": "qwen3-30b-a3b", "vram": "12GB, 8GiB", "gpus": "rtx-3090", "ram": "64GB"},
        "gpumem offload qwen3-30b-a3b --vram 12GB --vram 8GiB --gpu rtx-3090 --ram 64GB",
    ),
]
LOCAL_SELECTS = ("model", "gpu", "gguf", "ctk", "fa", "swa")

READ_PLACEMENT = """(root) => {
  const q = (s) => root.querySelector(s);
  const data = (s, key) => (q(s) ? q(s).dataset[key] : null);
  const command = q(".gc-command:not(.gc-llama) code");
  const devices = [...root.querySelectorAll("tr[data-device]")].map((row) => ({
    name: row.dataset.device,
    weights_bytes: row.dataset.weights,
    kv_bytes: row.dataset.kv,
    compute_bytes: row.dataset.compute,
    reserve_bytes: row.dataset.reserve,
    total_bytes: row.dataset.total,
    capacity_bytes: row.dataset.capacity,
  }));
  return {
    error: q(".gc-error").hidden ? null : q(".gc-error").textContent,
    devices: devices,
    ngl: data(".gc-ngl", "ngl"),
    n_cpu_moe: data(".gc-ngl", "nCpuMoe"),
    fits: data(".gc-verdict", "fits"),
    max_ctx: data(".gc-verdict", "maxCtx"),
    flags: q(".gc-flags") ? q(".gc-flags").textContent : null,
    decode: data(".gc-ceilings", "decode"),
    prefill: data(".gc-ceilings", "prefill"),
    command: command ? command.textContent : null,
  };
}"""


def _type_view(page: Page, view: str, inputs: dict[str, str], selects: tuple[str, ...]) -> None:
    """Choose the question ``view``, then set its fields: lists by choice, boxes by text."""
    form = page.locator(".gpumem-calculator form")
    form.locator("[name=view]").select_option(view)
    for name, value in inputs.items():
        field = form.locator(f"[name={name}]")
        if name in selects:
            field.select_option(value)
        else:
            field.fill(value)


def _type_local(page: Page, inputs: dict[str, str]) -> None:
    _type_view(page, "offload", inputs, LOCAL_SELECTS)


def _placement(page: Page) -> dict:
    return page.locator(".gpumem-calculator").evaluate(READ_PLACEMENT)


def _expected_placement(command: str) -> dict:
    run = _cli(command + " --json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    keys = ("weights_bytes", "kv_bytes", "compute_bytes", "reserve_bytes", "total_bytes")
    return {
        "error": None,
        "devices": [
            {
                "name": d["name"],
                **{k: str(d[k]) for k in keys},
                "capacity_bytes": "" if d["capacity_bytes"] is None else str(d["capacity_bytes"]),
            }
            for d in data["devices"]
        ],
        "ngl": str(data["ngl"]),
        "n_cpu_moe": str(data["n_cpu_moe"]),
        "fits": str(data["fits"]).lower(),
        "max_ctx": str(data["max_ctx"]),
        "flags": "llama-cli -m MODEL.gguf " + " ".join(data["flags"]),
        "decode": data["decode_ceiling"],
        "prefill": data["prefill_ceiling"],
    }


def _same_placement(got: dict, expected: dict) -> None:
    assert {k: got[k] for k in expected if k not in ("decode", "prefill")} == {
        k: v for k, v in expected.items() if k not in ("decode", "prefill")
    }
    for key in ("decode", "prefill"):
        ceiling = expected[key]
        assert (got[key] == "") if ceiling is None else float(got[key]) == ceiling


@pytest.mark.parametrize("index", range(len(LOCAL)))
def test_local_placement_equals_the_command_line(page: Page, http_url: str, index: int) -> None:
    """The local question gives what `gpumem offload --json` gives: bytes per device, -ngl
    and --n-cpu-moe, the flags, the largest context and the ceilings; so does its command."""
    inputs, command = LOCAL[index]
    _open(page, http_url, LANGUAGES[index % 2])
    _type_local(page, inputs)
    got = _placement(page)
    expected = _expected_placement(command)
    _same_placement(got, expected)
    _same_placement(got, _expected_placement(got["command"]))
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_local_address_and_errors(page: Page, root_url: str, language: str) -> None:
    """The local question's inputs live in the address; a bad one reads as the command line's
    error, in the page's language."""
    inputs, _command = LOCAL[0]
    _open(page, root_url, language)
    _type_local(page, inputs)
    first, address = _placement(page), page.url
    assert "view=offload" in address and "ctk=q8_0" in address and "mode=" not in address
    page.goto("about:blank")
    page.goto(address)
    page.wait_for_selector(".gc-devices")
    assert page.locator("[name=mode]").is_hidden()
    assert _placement(page) == first
    _type_local(page, {"model": "llama-3.1-8b", "ngl": "99"})
    run = _cli(
        "gpumem offload llama-3.1-8b --gpu rtx-4070 --ram 32GB --ctx 16384 "
        "--kv-dtype q8_0 --ngl 99",
        language,
    )
    assert run.returncode == 2
    assert _placement(page)["error"] == run.stderr.strip()
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_local_gpus_typed_by_their_memory(page: Page, root_url: str, language: str) -> None:
    """GPUs typed by their memory (--vram, comma-separated) come first, in the answer, the
    command and the address; a size without its unit reads as the command line's refusal."""
    inputs, command = LOCAL[-1]
    _open(page, root_url, language)
    _type_local(page, inputs)
    got, address = _placement(page), page.url
    assert got["command"].startswith("gpumem offload qwen3-30b-a3b --vram 12GB --vram 8GiB")
    assert [d["name"] for d in got["devices"]] == ["12GB", "8GiB", "rtx-3090", "cpu"]
    assert got["decode"] == "" and "vram=12GB%2C+8GiB" in address
    assert page.locator("[name=gpu]").is_disabled()
    _same_placement(got, _expected_placement(command))
    page.goto("about:blank")
    page.goto(address)
    page.wait_for_selector(".gc-devices")
    assert _placement(page) == got
    for typed in ("12", "0GiB"):
        _type_local(page, {"vram": typed})
        assert f"'{typed}'" in _placement(page)["error"]
        assert _cli(f"gpumem offload qwen3-30b-a3b --vram {typed}", language).returncode == 2
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_local_screenshot(page: Page, http_url: str, language: str) -> None:
    state = "#view=offload&model=qwen3-30b-a3b&gpu=rtx-4070&ram=32GB&ctx=16384&ctk=q8_0"
    _open(page, http_url, language, state)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"calculator-local-{language}.png", full_page=True)
    assert not page.problems, "\n".join(page.problems)


# --- the serving question: what vLLM reserves at startup ---------------------------------------
SERVE = [
    (
        {
            "model": "llama-3.1-70b",
            "gpu": "h100-sxm",
            "tp": "2",
            "max_model_len": "8192",
            "kv_dtype": "fp8_e4m3",
        },
        "gpumem serve llama-3.1-70b --gpu h100-sxm --tp 2 --max-model-len 8192 --kv-dtype fp8_e4m3",
    ),
    (
        {
            "model": "gemma-2-9b",
            "gpu": "rtx-4090",
            "max_model_len": "auto",
            "gpu_memory_utilization": "0.85",
        },
        "gpumem serve gemma-2-9b --gpu rtx-4090 --max-model-len auto --gpu-memory-utilization 0.85",
    ),
    (
        {"model": "qwen3-8b", "gpu": "h100-sxm", "engine": "vllm-0.13"},
        "gpumem serve qwen3-8b --gpu h100-sxm --engine 0.15.0",
    ),
    (
        {
            "model": "qwen2.5-7b",
            "gpu": "l40s",
            "engine": "vllm-0.8",
            "cudagraph_memory": "0.5GiB",
            "max_model_len": "auto",
        },
        "gpumem serve qwen2.5-7b --gpu l40s --engine 0.10.1 --cudagraph-memory 512MiB "
        "--max-model-len auto",
    ),
]
SERVE_SELECTS = ("model", "gpu", "dtype", "kv_dtype", "engine")
SERVE.append(({"model": "qwen2.5-7b", "vram": "24 GiB"}, "gpumem serve qwen2.5-7b --vram 24GiB"))

READ_LAUNCH = """(root) => {
  const q = (s) => root.querySelector(s);
  const value = (s, key) => (q(s) ? q(s).dataset[key] : null);
  return {
    error: q(".gc-error").hidden ? null : q(".gc-error").textContent,
    weights_bytes: value(".gc-log-weights", "value"),
    available_kv_bytes: value(".gc-log-available", "value"),
    kv_tokens: value(".gc-log-tokens", "value"),
    max_concurrency: value(".gc-log-concurrency", "value"),
    fits: value(".gc-verdict", "fits"),
    longest_request: value(".gc-verdict", "longest"),
    model_runner: value(".gc-serve-runner", "runner"),
    command: q(".gc-command code") ? q(".gc-command code").textContent : null,
  };
}"""


def _refused_as_the_command_line(
    page: Page, command: str, language: str, cwd: object = None
) -> None:
    """The page shows the one line with which `command` (a `gpumem …` line) is refused."""
    run = _cli(command, language, cwd=cwd)
    assert run.returncode == 2
    assert page.locator(".gpumem-calculator").evaluate(READ_LAUNCH)["error"] == run.stderr.strip()


@pytest.mark.parametrize("index", range(len(SERVE)))
def test_serving_equals_the_command_line(page: Page, http_url: str, index: int) -> None:
    """The serving question gives what `gpumem serve --json` gives; so does its command."""
    inputs, command = SERVE[index]
    _open(page, http_url, LANGUAGES[index % 2])
    _type_view(page, "serve", inputs, SERVE_SELECTS)
    got = page.locator(".gpumem-calculator").evaluate(READ_LAUNCH)
    for line in (command, got["command"]):
        run = _cli(line + " --json")
        assert run.returncode == 0, run.stderr
        data = json.loads(run.stdout)
        keys = ("weights_bytes", "available_kv_bytes", "kv_tokens", "longest_request")
        assert {k: got[k] for k in keys} == {k: str(data[k]) for k in keys}
        assert float(got["max_concurrency"]) == data["max_concurrency"]
        assert got["fits"] == str(data["fits"]).lower()
        assert got["model_runner"] == data["model_runner"]
    # the model runner in the command line's words, in the page's language
    runner = page.locator(".gc-serve-runner").inner_text()
    assert runner and runner in _cli(command, LANGUAGES[index % 2]).stdout
    assert got["error"] is None
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_serving_engine_in_address_and_errors(page: Page, root_url: str, language: str) -> None:
    """The engine row and the CUDA-graph memory live in the address and in the page's command;
    a release no row follows and a size without its unit read as the command line's errors."""
    inputs, _command = SERVE[3]
    _open(page, root_url, language)
    _type_view(page, "serve", inputs, SERVE_SELECTS)
    first, address = page.locator(".gpumem-calculator").evaluate(READ_LAUNCH), page.url
    assert "engine=vllm-0.8" in address and "cudagraph_memory=0.5GiB" in address
    assert "--engine vllm-0.8" in first["command"]
    assert "--cudagraph-memory 0.5GiB" in first["command"]
    page.goto("about:blank")
    page.goto(address)
    page.wait_for_selector(".gc-log")
    assert page.locator("[name=engine]").input_value() == "vllm-0.8"
    assert page.locator(".gpumem-calculator").evaluate(READ_LAUNCH) == first
    base = "gpumem serve qwen2.5-7b --gpu l40s --max-model-len auto"
    page.goto(address.replace("engine=vllm-0.8", "engine=0.7.3"))
    page.wait_for_selector(".gc-error:not([hidden])")
    _refused_as_the_command_line(page, f"{base} --engine 0.7.3 --cudagraph-memory 0.5GiB", language)
    # What argparse refuses, the page refuses too, naming the text it was given.
    _type_view(page, "serve", {"engine": "vllm", "cudagraph_memory": "5"}, SERVE_SELECTS)
    assert "'5'" in page.locator(".gpumem-calculator").evaluate(READ_LAUNCH)["error"]
    assert _cli(f"{base} --cudagraph-memory 5", language).returncode == 2
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_serving_gpu_typed_by_its_memory(page: Page, root_url: str, language: str) -> None:
    """A GPU typed by its memory (--vram) replaces the chosen one, in the answer, the command
    and the address; a size without its unit reads as the command line's refusal."""
    inputs, command = SERVE[-1]
    _open(page, root_url, language)
    _type_view(page, "serve", inputs, SERVE_SELECTS)
    got = page.locator(".gpumem-calculator").evaluate(READ_LAUNCH)
    assert "--vram 24GiB" in got["command"] and "--gpu" not in got["command"]
    assert "vram=24+GiB" in page.url
    assert page.locator("[name=gpu]").is_disabled()
    data = json.loads(_cli(command + " --json").stdout)
    assert got["kv_tokens"] == str(data["kv_tokens"])
    for typed in ("24", "0GB"):
        _type_view(page, "serve", {"vram": typed}, SERVE_SELECTS)
        assert f"'{typed}'" in page.locator(".gpumem-calculator").evaluate(READ_LAUNCH)["error"]
        assert _cli(f"gpumem serve qwen2.5-7b --vram {typed}", language).returncode == 2
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_serving_prefix_caching(page: Page, root_url: str, language: str, tmp_path) -> None:
    """Prefix caching on, off or vLLM's default gives what the command line gives with the
    same flag (a hybrid's recurrent groups hold two blocks a request when it is on), lives in
    the address and the page's command; on for a Mamba-2 hybrid reads as the command line's
    refusal."""
    selects = (*SERVE_SELECTS, "prefix_caching")
    base = "gpumem serve qwen3-next-80b-a3b --gpu h200 --tp 4"
    _open(page, root_url, language)
    tokens = {}
    for engine, choice, flag in [
        ("vllm", "", ""),
        ("vllm", "on", " --enable-prefix-caching"),
        ("vllm", "off", " --no-enable-prefix-caching"),
        ("vllm-0.17", "", " --engine vllm-0.17"),
    ]:
        inputs = {"model": "qwen3-next-80b-a3b", "gpu": "h200", "tp": "4", "engine": engine}
        _type_view(page, "serve", {**inputs, "prefix_caching": choice}, selects)
        got = page.locator(".gpumem-calculator").evaluate(READ_LAUNCH)
        assert got["error"] is None
        assert got["command"] == base + flag
        data = json.loads(_cli(base + flag + " --json").stdout)
        assert got["kv_tokens"] == str(data["kv_tokens"])
        assert ("prefix_caching=" in page.url) == (choice != "")
        tokens[engine, choice] = got["kv_tokens"]
    # vLLM's default: on from 0.26.0 (the row vllm), off before; off leaves more tokens
    assert tokens["vllm", ""] == tokens["vllm", "on"] != tokens["vllm", "off"]
    assert int(tokens["vllm", "off"]) > int(tokens["vllm", "on"])
    _type_view(page, "serve", {"engine": "vllm", "prefix_caching": "off"}, selects)
    first, address = page.locator(".gpumem-calculator").evaluate(READ_LAUNCH), page.url
    assert "prefix_caching=off" in address
    page.goto("about:blank")
    page.goto(address)
    page.wait_for_selector(".gc-log")
    assert page.locator("[name=prefix_caching]").input_value() == "off"
    assert page.locator(".gpumem-calculator").evaluate(READ_LAUNCH) == first
    # Nemotron-Nano-9B-v2 (Mamba-2 layers): vLLM would cache every block of its state
    config = json.loads((REPOSITORY / "tests" / "configs" / "nemotron-nano-9b-v2.json").read_text())
    config = {**config["config"], "_name_or_path": "nvidia/NVIDIA-Nemotron-Nano-9B-v2"}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    inputs = {"engine": "vllm-0.17", "tp": "", "prefix_caching": ""}
    _type_view(page, "serve", inputs, selects)
    page.locator("[name=config]").fill(json.dumps(config))
    got = page.locator(".gpumem-calculator").evaluate(READ_LAUNCH)
    assert got["error"] is None
    run = _cli(got["command"] + " --json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert got["kv_tokens"] == str(json.loads(run.stdout)["kv_tokens"])
    _type_view(page, "serve", {"prefix_caching": "on"}, selects)
    command = "gpumem serve config.json --gpu h200 --engine vllm-0.17 --enable-prefix-caching"
    _refused_as_the_command_line(page, command, language, cwd=tmp_path)
    assert not page.problems, "\n".join(page.problems)


def _served_as_command(page: Page, inputs: dict, selects: tuple[str, ...], command: str) -> dict:
    """Set the serving question's ``inputs``: the page's launch is what ``command`` gives."""
    _type_view(page, "serve", inputs, selects)
    got = page.locator(".gpumem-calculator").evaluate(READ_LAUNCH)
    assert got["error"] is None
    assert got["command"] == command
    data = json.loads(_cli(command + " --json").stdout)
    for key in ("weights_bytes", "available_kv_bytes", "kv_tokens"):
        assert got[key] == str(data[key])
    return got


@pytest.mark.parametrize("language", LANGUAGES)
def test_serving_language_model_only(page: Page, root_url: str, language: str) -> None:
    """Text only (--language-model-only) on a vision-language model gives what the command
    line gives with the flag: Qwen3.8-27B loads without its vision tower (460,730,096
    parameters, 2 bytes each in BF16) and skips the encoder's profiling run, so its cache
    holds more tokens; the choice lives in the address and the page's command. For a model
    without a vision tower the switch is closed, and turned on from the address it reads as
    the command line's refusal."""
    selects = (*SERVE_SELECTS, "language_model_only")
    base = "gpumem serve qwen3.8-27b --gpu h200"
    _open(page, root_url, language)
    label = page.locator("label[for=gc-language_model_only]").inner_text()
    assert ("仅文本" if language == "zh_CN" else "Text only") in label
    launches = {}
    for choice, flag in [("", ""), ("on", " --language-model-only")]:
        inputs = {"model": "qwen3.8-27b", "gpu": "h200", "language_model_only": choice}
        got = _served_as_command(page, inputs, selects, base + flag)
        assert page.locator("[name=language_model_only]").is_enabled()
        assert ("language_model_only=on" in page.url) == (choice == "on")
        launches[choice] = got
    assert int(launches[""]["weights_bytes"]) - int(launches["on"]["weights_bytes"]) == (
        460_730_096 * 2
    )
    assert int(launches["on"]["kv_tokens"]) > int(launches[""]["kv_tokens"])
    address = page.url
    page.goto("about:blank")
    page.goto(address)
    page.wait_for_selector(".gc-log")
    assert page.locator("[name=language_model_only]").input_value() == "on"
    assert page.locator(".gpumem-calculator").evaluate(READ_LAUNCH) == launches["on"]
    # Qwen2.5-7B has no vision tower: the switch is closed while it is off
    _type_view(page, "serve", {"language_model_only": "", "model": "qwen2.5-7b"}, selects)
    assert page.locator("[name=language_model_only]").is_disabled()
    assert page.locator(".gpumem-calculator").evaluate(READ_LAUNCH)["error"] is None
    # ... and on from an address, it is refused as the command line refuses it, and can be undone
    page.goto("about:blank")
    _open(page, root_url, language, "#view=serve&model=qwen2.5-7b&gpu=h200&language_model_only=on")
    _refused_as_the_command_line(
        page, "gpumem serve qwen2.5-7b --gpu h200 --language-model-only", language
    )
    assert page.locator("[name=language_model_only]").is_enabled()
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_serving_mtp_draft_tokens(page: Page, root_url: str, language: str) -> None:
    """Draft tokens of the MTP module give what `gpumem serve --speculative-config` gives:
    Qwen3.6-27B's module loads with the model (424,673,280 weights, 2 bytes each in BF16) and
    its cache holds fewer tokens; the number lives in the address and the page's command. For
    a model without an MTP module the box is closed, and filled from the address it reads as
    the command line's refusal."""
    base = "gpumem serve qwen3.6-27b --gpu h200"
    flag = """ --speculative-config '{"method":"mtp","num_speculative_tokens":3}'"""
    _open(page, root_url, language)
    label = page.locator("label[for=gc-mtp]").inner_text()
    assert ("MTP" in label) and (("起草" in label) if language == "zh_CN" else ("Draft" in label))
    launches = {}
    for tokens, given in [("", ""), ("3", flag)]:
        inputs = {"model": "qwen3.6-27b", "gpu": "h200", "mtp": tokens}
        got = _served_as_command(page, inputs, SERVE_SELECTS, base + given)
        assert page.locator("[name=mtp]").is_enabled()
        assert ("mtp=3" in page.url) == (tokens == "3")
        assert page.locator(".gc-drafter").count() == (1 if tokens else 0)
        launches[tokens] = got
    drafter = int(page.locator(".gc-drafter").get_attribute("data-value"))
    assert (
        drafter
        == 424_673_280 * 2
        == int(launches["3"]["weights_bytes"]) - int(launches[""]["weights_bytes"])
    )
    assert int(launches["3"]["kv_tokens"]) < int(launches[""]["kv_tokens"])
    # Qwen2.5-7B has no MTP module: the box is closed while it is empty
    _type_view(page, "serve", {"mtp": "", "model": "qwen2.5-7b"}, SERVE_SELECTS)
    assert page.locator("[name=mtp]").is_disabled()
    # ... and filled from an address, it is refused as the command line refuses it
    page.goto("about:blank")
    _open(page, root_url, language, "#view=serve&model=qwen2.5-7b&gpu=h200&mtp=3")
    _refused_as_the_command_line(page, "gpumem serve qwen2.5-7b --gpu h200" + flag, language)
    assert page.locator("[name=mtp]").is_enabled()
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_serving_compile_cache(page: Page, root_url: str, language: str) -> None:
    """A restart with the compile cache (--compile-cache warm) gives what the command line
    gives: Qwen3-8B's first start on the second runner counts its compile (4,096 x 259,523
    bytes) in the profiled peak, the restart does not, so it holds more tokens; each answer
    names the other start's tokens in the command line's words, in the page's language. The
    choice lives in the address and the page's command, and is closed on the first runner."""
    selects = (*SERVE_SELECTS, "compile_cache")
    base = "gpumem serve qwen3-8b --gpu l40s"
    _open(page, root_url, language)
    launches, lines = {}, {}
    for choice, flag in [("", ""), ("warm", " --compile-cache warm")]:
        inputs = {"model": "qwen3-8b", "gpu": "l40s", "engine": "vllm", "compile_cache": choice}
        launches[choice] = _served_as_command(page, inputs, selects, base + flag)
        assert ("compile_cache=warm" in page.url) == (choice == "warm")
        lines[choice] = page.locator(".gc-serve-start").inner_text()
        assert lines[choice] in _cli(base + flag, language).stdout
    first, restart = int(launches[""]["kv_tokens"]), int(launches["warm"]["kv_tokens"])
    assert restart > first
    assert int(launches[""]["available_kv_bytes"]) + 4096 * 259_523 == int(
        launches["warm"]["available_kv_bytes"]
    )
    assert f"{restart:,}" in lines[""] and f"{first:,}" in lines["warm"]
    # the first runner (0.17 to 0.19): no start line; the choice is closed while it is the default
    _type_view(page, "serve", {"compile_cache": "", "engine": "vllm-0.17"}, selects)
    assert page.locator("[name=compile_cache]").is_disabled()
    assert page.locator(".gc-serve-start").count() == 0
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_serving_wsl2(page: Page, root_url: str, language: str) -> None:
    """Under WSL2 (--wsl2) the page gives what the command line gives: CUDA reports an RTX
    4090's whole 24,564 MiB there, so vLLM's budget at 0.92 is 0.92 x 25,757,220,864 bytes
    (23,696,643,194) where Linux's total less the driver's 0.45 GiB (483,183,821 bytes) gives
    0.92 x 25,274,037,043 (23,252,114,079): the KV cache gains the difference, 444,529,115
    bytes. The choice lives in the address and the page's command."""
    selects = (*SERVE_SELECTS, "wsl2")
    base = "gpumem serve qwen3-8b --gpu rtx-4090"
    _open(page, root_url, language)
    label = page.locator("label[for=gc-wsl2]").inner_text()
    assert "--wsl2" in label and ("平台" if language == "zh_CN" else "Platform") in label
    launches = {}
    for choice, flag in [("", ""), ("on", " --wsl2")]:
        inputs = {"model": "qwen3-8b", "gpu": "rtx-4090", "engine": "vllm", "wsl2": choice}
        launches[choice] = _served_as_command(page, inputs, selects, base + flag)
        assert ("wsl2=on" in page.url) == (choice == "on")
    linux, wsl2 = launches[""], launches["on"]
    assert 25_757_220_864 == 24_564 * 2**20
    assert (25_757_220_864 * 92 // 100) - (25_274_037_043 * 92 // 100) == 444_529_115
    assert int(wsl2["available_kv_bytes"]) - int(linux["available_kv_bytes"]) == 444_529_115
    assert wsl2["weights_bytes"] == linux["weights_bytes"]
    assert int(wsl2["kv_tokens"]) > int(linux["kv_tokens"])
    address = page.url
    page.goto("about:blank")
    page.goto(address)
    page.wait_for_selector(".gc-log")
    assert page.locator("[name=wsl2]").input_value() == "on"
    assert page.locator(".gpumem-calculator").evaluate(READ_LAUNCH) == wsl2
    # a value from an edited address that is not the choice is named, as serve() names it
    page.goto("about:blank")
    _open(page, root_url, language, "#view=serve&model=qwen3-8b&gpu=rtx-4090&wsl2=yes")
    error = page.locator(".gpumem-calculator").evaluate(READ_LAUNCH)["error"]
    named = {
        "en": "gpumem: error: invalid wsl2 'yes': expected True or False",
        "zh_CN": "gpumem：错误：wsl2 的值 'yes' 无效，应为：True 或 False",
    }
    assert error == named[language]
    assert not page.problems, "\n".join(page.problems)
