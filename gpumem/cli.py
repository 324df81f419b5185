"""The ``gpumem`` command.

Data goes to stdout; a bad input gives one ``gpumem: error: …`` line on stderr and exit
status 2. The command never imports SymPy or matplotlib: it runs on generated code. It speaks
the user's language (:mod:`gpumem.i18n`): help, tables and errors; ``--json`` stays English.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import cache, partial

from .errors import GpumemError, InvalidValueError, Text, UnknownNameError, translate
from .i18n import N_, _, current_language, use_language
from .modelspec import PARAMS_FROM
from .vocabulary import GOALS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import IO, TypeVar

    T = TypeVar("T")
    G = TypeVar("G", bound=argparse._ActionsContainer)
EPILOG_ESTIMATE = N_("""\
examples:
  gpumem estimate llama-3.1-8b                          # inference, BF16, 2,048 tokens
  gpumem estimate llama-3.1-8b --dtype q4_k_m --seq 32768 --kv-dtype fp8
  gpumem estimate mistral-7b-v0.1 --mode training --batch 4 --grad-checkpointing
  gpumem estimate llama-2-70b --mode training --lora-rank 16 --dtype nf4   # QLoRA
  gpumem estimate path/to/config.json --json

units: GB = 10^9 bytes, GiB = 2^30 bytes (as nvidia-smi and PyTorch report them). Totals
include the CUDA context and the allocator reserve; set --cuda-context 0
--allocator-reserve 0 for tensor memory alone.""")

EPILOG_FIT = N_("""\
examples:
  gpumem fit llama-3.1-70b --gpu h100-sxm --dtype fp8
  gpumem fit qwen2.5-7b --gpu rtx-4090 --mode training --lora-rank 16 --dtype nf4
  gpumem fit qwen2.5-32b --gpu rtx-4090 --dtype bf16,fp8_e4m3,q8_0,q4_k_m --kv-dtype bf16,fp8
  gpumem fit llama-3.1-8b --vram 12GB --dtype q8_0,q4_k_m --batch 1,4   # a card by its memory""")


EPILOG_SERVE = N_("""\
examples:
  gpumem serve qwen2.5-7b --gpu h100-sxm
  gpumem serve llama-3.1-8b --gpu rtx-4090 --max-model-len auto
  gpumem serve llama-3.1-70b --gpu h100-sxm --tp 4 --kv-dtype fp8 --json
  gpumem serve qwen3-8b --gpu h100-sxm --engine 0.21.0 --cudagraph-memory 0.5GiB""")

EPILOG_OFFLOAD = N_("""\
examples:
  gpumem offload qwen3-30b-a3b --gpu rtx-4070 --ram 32GB --ctx 16384
  gpumem offload llama-3.1-70b --gpu rtx-4090 --gpu rtx-3090 --ram 64GB --kv-dtype q8_0
  gpumem offload model.gguf --gpu m4-pro-64gb --ctx 32768 --json

llama.cpp's conventions: -ngl counts the output layer (the last of L+1 slots), layers are
offloaded from the last backwards, the input embedding stays on the CPU, --n-cpu-moe keeps
the experts of the first N layers in system memory. Speeds are ceilings (bytes / bandwidth).""")

PARAMS_FROM_HELP = N_(
    "a model directory's parameter count: from config (the architecture) or "
    "safetensors (the weights' headers); default: the headers when they agree "
    "with the architecture"
)

COMPLETION_EPILOG = N_("""\
install (once; print it again after an upgrade):
  gpumem completion bash > ~/.local/share/bash-completion/completions/gpumem
  gpumem completion zsh > ~/.gpumem.zsh; echo 'source ~/.gpumem.zsh' >> ~/.zshrc""")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message instead of usage plus error, that keeps a list
    of its arguments (``arguments``: the actions :meth:`add_argument` returned, those of its
    groups included) for the shell completion."""

    def __init__(
        self, *args: object, formatter_class: type = argparse.HelpFormatter, **kwargs: object
    ) -> None:
        self.arguments: list[argparse.Action] = []
        # Left to itself, argparse's formatter imports shutil (and with it bz2, lzma and zlib)
        # for the terminal width, which costs more than building the whole parser.
        formatter = partial(formatter_class, width=_terminal_columns() - 2)
        super().__init__(*args, formatter_class=formatter, **kwargs)  # type: ignore[arg-type]

    def add_argument(self, *names: str, **options: object) -> argparse.Action:
        return _noted(super().add_argument, self.arguments)(*names, **options)

    def add_argument_group(self, *args: object, **kwargs: object) -> argparse._ArgumentGroup:
        return _noting(super().add_argument_group(*args, **kwargs), self.arguments)

    def add_mutually_exclusive_group(self, **kwargs: object) -> argparse._MutuallyExclusiveGroup:
        return _noting(super().add_mutually_exclusive_group(**kwargs), self.arguments)

    def print_help(self, file: IO[str] | None = None) -> None:
        """Print the help; unlike argparse, let a failed write raise (see :func:`main`)."""
        (file or sys.stdout).write(self.format_help())

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(
            2,
            _("{prog}: error: {message} (see '{prog} --help')").format(
                prog=self.prog, message=message
            )
            + "\n",
        )


def _noted(add_argument: Callable[..., argparse.Action], into: list[argparse.Action]):
    """``add_argument`` that also appends the action it makes to ``into``."""

    def add(*names: str, **options: object) -> argparse.Action:
        action = add_argument(*names, **options)
        into.append(action)
        return action

    return add


def _noting(group: G, into: list[argparse.Action]) -> G:
    """``group`` (an argument group) noting its arguments, and those of its own groups."""
    add_group = group.add_mutually_exclusive_group
    group.add_argument = _noted(group.add_argument, into)  # type: ignore[method-assign]
    group.add_mutually_exclusive_group = lambda **kw: _noting(add_group(**kw), into)  # type: ignore[method-assign]
    return group


@cache
def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _type_error(message: str, text: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(_(message).format(text=text))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise _type_error(N_("expected a positive integer, got {text!r}"), text)
    return value


def _list(item: Callable[[str], T]) -> Callable[[str], list[T]]:
    """A comma-separated list of ``item``: ``"bf16,q4_k_m"`` → ``["bf16", "q4_k_m"]``."""

    def parse(text: str) -> list[T]:
        parts = [part.strip() for part in text.split(",")]
        if not all(parts):
            raise _type_error(N_("expected a value or a comma-separated list, got {text!r}"), text)
        return [item(part) for part in parts]

    return parse


def _modality_counts(text: str) -> dict[str, int]:
    """vLLM's ``--limit-mm-per-prompt`` in its JSON form: ``{"image": 16, "video": 0}``."""
    import json

    try:
        value = json.loads(text)
    except ValueError:
        value = None
    counts = value.values() if isinstance(value, dict) else [None]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
        raise _type_error(
            N_('expected counts per modality such as {{"image": 16, "video": 0}}, got {text!r}'),
            text,
        )
    return value


def _json_object(text: str) -> dict:
    """vLLM's ``--speculative-config``: a JSON object, ``{"method": "mtp", ...}``; the API
    checks its keys and values."""
    import json

    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise _type_error(
            N_(
                'expected a JSON object such as {{"method": "mtp", "num_speculative_tokens": 3}}, '
                "got {text!r}"
            ),
            text,
        )
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:  # NaN too
        raise _type_error(N_("expected a number in [0, 1), got {text!r}"), text)
    return value


def _size(text: str) -> int:
    """A number of bytes written with its unit (``512MiB``, ``0.5GiB``, ``24GB``), or ``0``."""
    from .units import UNITS

    number, scale = text.strip(), 0
    for unit in sorted(UNITS, key=len, reverse=True):
        if number.endswith(unit):
            number, scale = number[: -len(unit)].strip(), UNITS[unit]
            break
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if value == 0 and not number.startswith("-"):
        return 0
    if not (scale and 0 <= value < float("inf")):  # a bare number, NaN, inf, negative
        raise _type_error(
            N_("expected a size with its unit such as 512MiB, 0.5GiB or 24GB, or 0, got {text!r}"),
            text,
        )
    return round(value * scale)


def _add_workload_options(p: argparse.ArgumentParser, lists: bool) -> None:
    """The workload's options; with ``lists``, the formats and the batch size take
    comma-separated lists."""
    p.add_argument(
        "model",
        help=_(
            "catalog id (see 'gpumem models'), a config.json, a model directory or a .gguf file"
        ),
    )
    p.add_argument("--params-from", choices=PARAMS_FROM, help=_(PARAMS_FROM_HELP))
    g = p.add_argument_group(_("workload"))
    g.add_argument("--mode", metavar="MODE", help=_("inference (default) or training"))
    g.add_argument(
        "--dtype",
        type=_list(str) if lists else None,
        help=_(
            "weight format (see 'gpumem formats'); for training fp32, fp16 or bf16 (default: bf16)"
        )
        + (_("; a comma-separated list compares them") if lists else ""),
    )
    g.add_argument(
        "--kv-dtype",
        type=_list(str) if lists else None,
        help=_("inference: KV-cache format (default: the activation format)")
        + (_("; a comma-separated list compares them") if lists else ""),
    )
    g.add_argument(
        "--batch",
        type=_list(_positive) if lists else _positive,
        help=_("sequences per GPU (default: 1)")
        + (_("; a comma-separated list compares them") if lists else ""),
    )
    g.add_argument(
        "--seq",
        type=_positive,
        help=_(
            "tokens per sequence, prompt plus output, or the prompt alone with --new-tokens "
            "(default: 2048, or the model's context window if shorter)"
        ),
    )
    g.add_argument(
        "--new-tokens",
        type=_positive,
        help=_(
            "inference: tokens generated one at a time after the prompt; the peak is the "
            "larger of the prompt's forward pass and the last decoding step"
        ),
    )
    g.add_argument(
        "--weights-as-shipped",
        action="store_const",
        const=True,
        help=_(
            "inference: count the weights as the checkpoint ships them, the modules its "
            "quantization_config quantizes (MXFP4 experts, FP8 linear layers) in that format "
            "with their scales and the rest in --dtype (default: every weight in --dtype)"
        ),
    )
    g.add_argument(
        "--attention",
        help=_(
            "flash (a fused kernel, default), eager, or math: PyTorch sdpa's math kernel "
            "(FP32 scores and probabilities, saved for backward in training), which PyTorch "
            "runs when no fused kernel takes the shapes, dtype or mask (on the CPU: value heads "
            "narrower than query heads, as in DeepSeek's latent attention; on CUDA: grouped KV "
            "heads in FP32) or when it is forced"
        ),
    )
    g.add_argument(
        "--logits", help=_("inference: keep logits of the 'last' position (default) or 'all'")
    )
    t = p.add_argument_group(_("training"))
    t.add_argument("--precision", help=_("mixed (16-bit + FP32 master, default), pure or amp"))
    t.add_argument(
        "--optimizer", help=_("adamw (default), adam, adamw_8bit, sgd, sgd_momentum, adafactor")
    )
    t.add_argument("--optimizer-impl", help=_("foreach (PyTorch's default) or fused"))
    t.add_argument(
        "--grad-checkpointing",
        action="store_true",
        help=_("recompute activations: the same as --checkpointing full"),
    )
    t.add_argument("--checkpointing", help=_("none, full or selective"))
    t.add_argument("--lora-rank", type=_positive, help=_("train LoRA adapters of this rank"))
    t.add_argument(
        "--lora-targets",
        help=_(
            "with --lora-rank: the modules adapted, in peft's names: all-linear (default) or a "
            "comma-separated list such as q_proj,v_proj"
        ),
    )
    t.add_argument(
        "--adapter-dtype",
        help=_(
            "with --lora-rank: the adapters' dtype, fp32 (peft's default) or the base's bf16 or "
            "fp16 (peft's autocast_adapter_dtype=False)"
        ),
    )
    t.add_argument(
        "--lora-dropout",
        type=_fraction,
        help=_("with --lora-rank: dropout on the adapters' inputs, from 0 to below 1 (default 0)"),
    )
    par = p.add_argument_group(_("parallelism (per-GPU memory is reported)"))
    par.add_argument("--dp", type=_positive, help=_("data-parallel GPUs"))
    par.add_argument("--tp", type=_positive, help=_("tensor-parallel GPUs"))
    par.add_argument("--pp", type=_positive, help=_("pipeline stages"))
    par.add_argument("--zero", type=int, help=_("ZeRO stage 0-3 (3 = FSDP)"))
    par.add_argument(
        "--fsdp",
        action="store_true",
        default=None,
        help=_(
            "training: PyTorch FSDP2 over the --dp GPUs, --zero 2 or 3 (reshard_after_forward "
            "False or True); --precision mixed is its MixedPrecisionPolicy"
        ),
    )
    o = p.add_argument_group(_("runtime overhead"))
    o.add_argument(
        "--cuda-context",
        type=_size,
        help=_(
            "CUDA context and workspaces, a size with its unit (GB, GiB, MB, MiB…): "
            "512MiB (default), 0.5GiB or 0"
        ),
    )
    o.add_argument(
        "--allocator-reserve",
        type=_fraction,
        help=_("allocator reserve as a fraction of tensor memory (default: 0.05)"),
    )
    p.add_argument("--json", action="store_true", help=_("print JSON (bytes)"))


#: The options that make up a :class:`~gpumem.workload.Workload`, by attribute name.
WORKLOAD_FIELDS = (
    "mode",
    "dtype",
    "kv_dtype",
    "batch",
    "seq",
    "new_tokens",
    "attention",
    "logits",
    "precision",
    "optimizer",
    "optimizer_impl",
    "checkpointing",
    "lora_rank",
    "lora_targets",
    "weights_as_shipped",
    "adapter_dtype",
    "lora_dropout",
    "dp",
    "tp",
    "pp",
    "zero",
    "fsdp",
    "cuda_context",
    "allocator_reserve",
)

#: Options of ``gpumem fit`` that take a comma-separated list, to compare.
LISTED = ("dtype", "kv_dtype", "batch")


def _settings(args: argparse.Namespace) -> dict[str, object]:
    """The workload options given on the command line (lists as they were parsed).

    Two options that say different things are refused, never one silently dropped.
    """
    given = {n: getattr(args, n) for n in WORKLOAD_FIELDS if getattr(args, n) is not None}
    if args.grad_checkpointing:
        if "checkpointing" in given:
            raise _conflict("--grad-checkpointing", f"--checkpointing {given['checkpointing']}")
        given["checkpointing"] = "full"
    gpus = getattr(args, "gpus", None)
    if gpus is not None:
        for name in ("dp", "tp", "pp", "zero"):
            if name in given:
                raise _conflict(f"--gpus {gpus}", f"--{name} {given[name]}")
        if given.get("mode") == "training":
            given.update(dp=gpus, zero=3 if gpus > 1 else 0)
        else:
            given["tp"] = gpus
    return given


def _conflict(first: str, second: str) -> GpumemError:
    return GpumemError(
        Text("{first} and {second} contradict each other; give one", first=first, second=second)
    )


#: The listing commands: the line in ``gpumem --help`` and the description of their own help.
LISTINGS = {
    "models": (N_("list the model catalog"), N_("List the model catalog.")),
    "gpus": (N_("list the GPU catalog"), N_("List the GPU catalog.")),
    "formats": (
        N_("list number formats and their bits per value"),
        N_("List number formats and their bits per value."),
    ),
}

#: argparse's own messages that a user of ``gpumem`` sees, for the catalog (argparse asks
#: :func:`gettext.gettext`, which has no catalog for them; see :func:`_argparse_speaks`).
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("expected one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("ignored explicit argument %r"),
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser.

    With ``only``, the parser knows that command alone: parsing a command line needs just the
    command it names, and every parser and option costs start-up time.
    """
    return _parsers(only)[None]


def _parsers(only: str | None = None) -> dict[str | None, argparse.ArgumentParser]:
    """``gpumem``'s parser (key None) and those of its commands (all, or ``only``), by name."""
    parser = _Parser(
        prog="gpumem",
        description=_("Estimate the GPU memory a transformer needs to run or train."),
        epilog=_("Run 'gpumem COMMAND --help' for the options of a command."),
    )
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, required=True
    )
    commands = {
        "estimate": (_("peak memory per GPU, by component"), _add_estimate),
        "fit": (_("does it fit on a GPU; how many GPUs; largest batch/context"), _add_fit),
        **{name: (_(text), _add_listing) for name, (text, _d) in LISTINGS.items()},
        "serve": (_("what vLLM reserves at startup: KV cache, tokens, concurrency"), _add_serve),
        "offload": (_("llama.cpp on GPUs and the CPU: layers, bytes, flags, speed"), _add_offload),
        "completion": (_("print a shell completion script (bash or zsh)"), _add_completion),
    }
    parsers: dict[str | None, argparse.ArgumentParser] = {None: parser}
    for name, (text, add_options) in commands.items():
        if only is None or name == only:
            parsers[name] = add_options(sub, name, text)
    return parsers


def help_text(command: str | None = None, language: str = "en", width: int = 100) -> str:
    """``gpumem [COMMAND] --help`` as a terminal ``width`` columns wide shows it, in
    ``language`` (one of :data:`gpumem.i18n.LANGUAGES`).

    Raises :class:`~gpumem.errors.UnknownNameError` for a command ``gpumem`` does not have.
    """
    previous = use_language(language)
    argparse_gettext = _argparse_speaks()
    try:
        parsers = _parsers()
        if command not in parsers:
            raise UnknownNameError("command", str(command), [c for c in parsers if c])
        parser = parsers[command]
        # argparse calls formatter_class(prog=...); a later width= overrides an earlier one.
        parser.formatter_class = partial(parser.formatter_class, width=width - 2)
        return parser.format_help().rstrip() + "\n"
    finally:
        _argparse_speaks(argparse_gettext)
        use_language(previous)


def _add_estimate(sub: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    return _add_workload_command(
        sub,
        name,
        text,
        _("Peak memory per GPU of a model under a workload."),
        _(EPILOG_ESTIMATE),
    )


def _add_fit(sub: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    fit = _add_workload_command(
        sub, name, text, _("Check a model and workload against a GPU."), _(EPILOG_FIT), lists=True
    )
    g = _add_device(fit)
    g.add_argument(
        "--gpus",
        type=_positive,
        metavar="N",
        help=_("N such GPUs: tensor parallel for inference, ZeRO-3 data parallel for training"),
    )
    fit.add_argument(
        "--goal",
        choices=tuple(GOALS),
        help=_(
            "with lists: the row to mark best, the longest context (default) or the most "
            "precise formats that fit"
        ),
    )
    return fit


def _add_device(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The GPU options: ``--gpu`` or ``--vram``, one of them required."""
    g = parser.add_argument_group(_("GPU"))
    device = g.add_mutually_exclusive_group(required=True)
    device.add_argument("--gpu", help=_("GPU id (see 'gpumem gpus')"))
    device.add_argument(
        "--vram",
        type=_budget,
        metavar="SIZE",
        help=_("instead of --gpu: the memory of one GPU, with its unit (24GB, 16GiB)"),
    )
    return g


def _default_row_release() -> str:
    """The vLLM release the default engine row ``vllm`` follows (its ``row_release`` in
    ``data/serving.json``: the newest release read)."""
    from .serve import engine

    return engine("vllm")["model_runner"]["row_release"]


def _add_serve(sub: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    serve = _add_command(
        sub,
        name,
        text,
        _(
            "What vLLM reports when it starts a model: the weights' memory, the KV cache's "
            "memory and tokens, and how many requests of a length it holds at once."
        ),
        _(EPILOG_SERVE),
    )
    serve.add_argument(
        "model", help=_("catalog id (see 'gpumem models'), a config.json or a model directory")
    )
    serve.add_argument("--params-from", choices=PARAMS_FROM, help=_(PARAMS_FROM_HELP))
    _add_device(serve)
    e = serve.add_argument_group(_("engine"))
    e.add_argument("--tp", type=_positive, help=_("tensor-parallel GPUs"))
    e.add_argument("--pp", type=_positive, help=_("pipeline stages"))
    e.add_argument("--dtype", help=_("weight format (see 'gpumem formats'; default: bf16)"))
    e.add_argument("--kv-dtype", help=_("KV-cache format (default: the activation format)"))
    e.add_argument(
        "--gpu-memory-utilization",
        type=float,
        metavar="U",
        help=_(
            "share of the GPU the engine may use, in (0, 1] (vLLM's default: 0.92 from 0.20, "
            "0.9 before)"
        ),
    )
    e.add_argument(
        "--max-model-len",
        type=_tokens_or_auto,
        metavar="N",
        help=_("tokens per request (default: the model's window); auto: the longest that fits"),
    )
    e.add_argument("--max-num-seqs", type=_positive, help=_("requests per step (vLLM's default)"))
    e.add_argument(
        "--max-num-batched-tokens", type=_positive, help=_("tokens per step (vLLM's default)")
    )
    e.add_argument("--block-size", type=_positive, help=_("tokens per KV-cache block"))
    e.add_argument(
        "--kv-cache-memory",
        type=_size,
        metavar="SIZE",
        help=_("KV-cache memory per GPU, with its unit, instead of what the budget leaves"),
    )
    e.add_argument(
        "--cudagraph-memory",
        type=_size,
        metavar="SIZE",
        help=_(
            "CUDA-graph memory per GPU, with its unit, taken from the budget before the cache "
            "is sized, in place of gpumem's model of vLLM's estimate: the 'Estimated CUDA graph "
            "memory' a vLLM 0.20 or later log prints (default: the model from 0.20; 0 before, "
            "where the graphs are captured above the budget)"
        ),
    )
    e.add_argument(
        "--enable-prefix-caching",
        action=argparse.BooleanOptionalAction,
        help=_(
            "vLLM's prefix caching; for a hybrid model it keeps two blocks a request of each "
            "recurrent group (mamba_cache_mode 'align'). Default: vLLM's, on for hybrid models "
            "from 0.26 (and for the generation vllm), off before"
        ),
    )
    e.add_argument(
        "--limit-mm-per-prompt",
        type=_modality_counts,
        metavar="JSON",
        help=_(
            "vision-language models: images and videos a prompt may hold, as vLLM takes them "
            "('{\"image\": 16}'; vLLM's default: 999 each); vLLM profiles the vision encoder "
            "with as many of its largest items as its budget and these allow"
        ),
    )
    e.add_argument(
        "--language-model-only",
        action="store_true",
        default=None,
        help=_("vision-language models: no images or videos, so no vision encoder (vLLM's flag)"),
    )
    e.add_argument(
        "--speculative-config",
        type=_json_object,
        metavar="JSON",
        help=_(
            "speculative decoding as vLLM takes it; gpumem follows the method mtp, the "
            "checkpoint's multi-token-prediction module as the drafter "
            '(\'{"method": "mtp", "num_speculative_tokens": 3}\')'
        ),
    )
    e.add_argument(
        "--engine",
        dest="engine_id",
        metavar="VERSION",
        help=_(
            "whose accounting to follow: a vLLM release such as 0.21.0 (or as vLLM prints a "
            "build, 0.29.1rc1.dev17+g…), or a generation: vllm (0.20 and later, the default, "
            "following {release}, the newest release read: the CUDA-graph estimate comes out "
            "of the cache), vllm-0.17 (0.17 to 0.19), vllm-0.13 (0.13 to 0.16, whose sampler "
            "sorts the logits) or vllm-0.8 (0.8.5 to 0.12, with fitted terms)"
        ).format(release=_default_row_release()),
    )
    e.add_argument(
        "--model-runner",
        choices=("auto", "v1", "v2"),
        help=_(
            "vLLM's model runner: auto (the one the release runs the model with; the second "
            "for every model from 0.29, and for the generation vllm), v1 or v2 "
            "(VLLM_USE_V2_MODEL_RUNNER=0 or 1; the second from 0.22)"
        ),
    )
    e.add_argument(
        "--compile-cache",
        choices=("cold", "warm"),
        help=_(
            "the start, on vLLM's second model runner: cold (the default: a first start, "
            "whose torch.compile runs inside vLLM's memory profile) or warm (a restart that "
            "loads the compiled model from vLLM's cache, or --enforce-eager)"
        ),
    )
    e.add_argument(
        "--wsl2",
        action="store_true",
        help=_(
            "vLLM under WSL2 on Windows, where CUDA reports the card's whole memory "
            "(nvidia-smi's total, no driver share held back): a larger budget"
        ),
    )
    serve.add_argument("--json", action="store_true", help=_("print JSON (bytes)"))
    return serve


def _add_offload(sub: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    offload = _add_command(
        sub,
        name,
        text,
        _(
            "Where llama.cpp puts a model's layers, experts and KV cache across GPUs and the "
            "CPU, the bytes on each device, the flags that do it and the speed ceilings."
        ),
        _(EPILOG_OFFLOAD),
    )
    offload.add_argument(
        "model", help=_("catalog id (see 'gpumem models'), a config.json or a .gguf file")
    )
    gpus = offload.add_argument_group(_("GPUs, in llama.cpp's device order (one at least)"))
    gpus.add_argument(
        "--gpu", action=_InOrder, metavar="ID", help=_("GPU id; repeat for several GPUs")
    )
    gpus.add_argument(
        "--vram",
        action=_InOrder,
        type=_budget,
        metavar="SIZE",
        help=_(
            "a GPU known only by its memory, with its unit (12GB, 16GiB); repeatable, mixed "
            "with --gpu in the order given; no speed ceiling without its bandwidth"
        ),
    )
    offload.add_argument(
        "--ram", type=_size, metavar="SIZE", help=_("system memory for what stays on the CPU")
    )
    offload.add_argument("--ctx", type=_positive, metavar="N", help=_("context (default 4096)"))
    offload.add_argument("--kv-dtype", metavar="TYPE", help=_("-ctk/-ctv: f16, q8_0, q4_0 …"))
    offload.add_argument("--batch", type=_positive, metavar="N", help="-b")
    offload.add_argument("--ubatch", type=_positive, metavar="N", help="-ub")
    offload.add_argument(
        "--dtype", help=_("GGUF format of a model given without a .gguf file (default q4_k_m)")
    )
    offload.add_argument("--ngl", type=int, metavar="N", help=_("layers to offload (-ngl)"))
    offload.add_argument("--n-cpu-moe", type=int, metavar="N", help="--n-cpu-moe")
    offload.add_argument("--no-flash-attn", action="store_true", help="-fa off")
    offload.add_argument("--swa-full", action="store_true", help="--swa-full")
    offload.add_argument(
        "--ram-bandwidth",
        type=_size,
        metavar="SIZE",
        help=_("system memory bandwidth per second (default 89.6GB: DDR5-5600, two channels)"),
    )
    offload.add_argument("--json", action="store_true", help=_("print JSON (bytes)"))
    return offload


class _InOrder(argparse._AppendAction):
    """A repeatable option whose values also join ``gpus``, the GPUs in the order given."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        super().__call__(parser, namespace, values, option_string)
        namespace.gpus = [*(getattr(namespace, "gpus", None) or ()), values]


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, object]:
    """The options among ``names`` the user gave (an option left out stays at the API's default)."""
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _offload(args: argparse.Namespace) -> str:
    from .offload import plan
    from .report import offload_json, offload_text, to_json

    names = (
        "ram",
        "ctx",
        "kv_dtype",
        "batch",
        "ubatch",
        "dtype",
        "ngl",
        "n_cpu_moe",
        "ram_bandwidth",
    )
    if not getattr(args, "gpus", None):
        raise GpumemError(Text("give one GPU at least: --gpu ID or --vram SIZE"))
    given = _given(args, names)
    result = plan(
        args.model, args.gpus, flash_attn=not args.no_flash_attn, swa_full=args.swa_full, **given
    )
    return to_json(offload_json(result)) if args.json else offload_text(result)


def _tokens_or_auto(text: str) -> int | str:
    return "auto" if text == "auto" else _positive(text)


def _budget(text: str):
    """``--vram``: a GPU that has this much memory and nothing else known."""
    from .hardware import GPU
    from .units import UNITS

    size = _size(text)
    if not size:
        raise _type_error(
            N_("expected a size with its unit such as 24GB or 16GiB, got {text!r}"), text
        )
    unit = next(u for u in sorted(UNITS, key=len, reverse=True) if text.strip().endswith(u))
    amount = text.strip()[: -len(unit)].strip()
    return GPU(
        id=text,
        name=f"{amount} {unit}",
        vendor="",
        memory_marketed=float(amount),
        memory_unit=unit,
        memory_bytes=size,
        memory_basis="given",
        memory_evidence=f"--vram {text}",
        memory_source="command line",
        unified_memory=False,
        memory_type="",
        bus_width_bits=0,
        bandwidth_bytes_per_s=0,
        fp16_tflops=None,
        bf16_tflops=None,
        tflops_basis="none",
        year=0,
        source="command line",
    )


def _add_workload_command(
    sub: argparse._SubParsersAction,
    name: str,
    text: str,
    description: str,
    epilog: str,
    lists: bool = False,
) -> argparse.ArgumentParser:
    command = _add_command(sub, name, text, description, epilog)
    _add_workload_options(command, lists)
    return command


def _add_command(
    sub: argparse._SubParsersAction, name: str, text: str, description: str, epilog: str
) -> argparse.ArgumentParser:
    """A command whose epilog (examples) is printed as written."""
    return sub.add_parser(
        name,
        help=text,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_listing(sub: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    listing = sub.add_parser(name, help=text, description=_(LISTINGS[name][1]))
    listing.add_argument("--json", action="store_true", help=_("print JSON"))
    return listing


def _add_completion(
    sub: argparse._SubParsersAction, name: str, text: str
) -> argparse.ArgumentParser:
    from .completion import SHELLS

    completion = _add_command(
        sub,
        name,
        text,
        _(
            "Print a script that completes gpumem's commands, options, model and GPU ids and "
            "formats in the shell."
        ),
        _(COMPLETION_EPILOG),
    )
    completion.add_argument("shell", choices=SHELLS, help=_("bash or zsh"))
    return completion


def _completion(args: argparse.Namespace) -> str:
    from .completion import script

    commands = {name: parser for name, parser in _parsers().items() if name}
    return script(args.shell, commands)


def _model(args: argparse.Namespace):
    """The model the command line names; what its reader found suspicious goes to stderr,
    one ``gpumem: warning: …`` line each (``--json`` lists them under ``warnings``)."""
    from .catalog import load_model

    spec = load_model(args.model, params_from=args.params_from)
    for warning in spec.warnings:
        line = _("{prog}: warning: {message}").format(prog="gpumem", message=translate(warning, _))
        print(line, file=sys.stderr)
    return spec


def _serve(args: argparse.Namespace) -> str:
    from .hardware import get_gpu
    from .report import serve_json, serve_text, to_json
    from .serve import serve

    names = (
        "tp",
        "pp",
        "dtype",
        "kv_dtype",
        "gpu_memory_utilization",
        "max_model_len",
        "max_num_seqs",
        "max_num_batched_tokens",
        "block_size",
        "kv_cache_memory",
        "cudagraph_memory",
        "engine_id",
        "enable_prefix_caching",
        "limit_mm_per_prompt",
        "language_model_only",
        "speculative_config",
        "model_runner",
        "compile_cache",
        "wsl2",
    )
    given = _given(args, names)
    gpu = args.vram or get_gpu(args.gpu)
    result = serve(_model(args), gpu, **given)
    return to_json(serve_json(result)) if args.json else serve_text(result, gpu, given)


def _estimate(args: argparse.Namespace) -> str:
    from .estimate import estimate
    from .report import estimate_json, estimate_text, to_json
    from .workload import Workload

    result = estimate(_model(args), Workload(**_settings(args)))
    return to_json(estimate_json(result)) if args.json else estimate_text(result)


def _fit(args: argparse.Namespace) -> str:
    from .workload import Workload

    settings = _settings(args)
    if args.model.lower().endswith(".gguf"):
        return _fit_gguf(args, settings)
    lists = {name: settings.pop(name) for name in LISTED if name in settings}
    gpu = args.gpu or args.vram
    if any(len(values) > 1 for values in lists.values()):
        from .compare import GOALS as goals
        from .compare import best, compare
        from .report import compare_json, compare_text, to_json

        goal = args.goal or goals[0]
        options = compare(
            _model(args),
            gpu,
            Workload(**settings),
            dtypes=lists.get("dtype", ()),
            kv_dtypes=lists.get("kv_dtype", ()),
            batches=lists.get("batch", ()),
        )
        chosen = best(options, goal)
        if args.json:
            return to_json(compare_json(options, chosen))
        return compare_text(options, chosen, goal, listed=tuple(lists))
    if args.goal:
        raise GpumemError(
            Text(
                "--goal {goal} picks a row of a comparison: give a comma-separated "
                "--dtype, --kv-dtype or --batch",
                goal=args.goal,
            )
        )
    from .report import fit_json, fit_text, to_json
    from .solve import answer

    settings.update({name: values[0] for name, values in lists.items()})
    result = answer(_model(args), gpu, Workload(**settings))
    return to_json(fit_json(result)) if args.json else fit_text(result)


def _fit_gguf(args: argparse.Namespace, settings: dict[str, object]) -> str:
    """A GGUF file answers as llama.cpp runs it: every layer on the GPU (-ngl all), the KV
    cache, compute buffer and CUDA context beside it, and the largest context that fits."""
    from .offload import plan, plan_options
    from .report import offload_json, offload_text, to_json

    if args.gpus is not None:  # N GPUs: llama.cpp splits the layers (-ts), not the tensors
        settings.pop("tp")
    for name in LISTED:
        if name in settings:
            values = settings[name]
            if len(values) > 1:  # type: ignore[arg-type]
                raise InvalidValueError(
                    name, ",".join(map(str, values)), Text("one value for a GGUF file")
                )
            settings[name] = values[0]  # type: ignore[index]
    if args.goal:
        raise InvalidValueError("goal", args.goal, Text("nothing for a GGUF file"))
    spec = _model(args)
    gpus = [args.vram or args.gpu] * (args.gpus or 1)
    result = plan(spec, gpus, ngl=spec.n_layers + 1, n_cpu_moe=0, **plan_options(settings))
    return to_json(offload_json(result)) if args.json else offload_text(result)


def _listing(name: str):
    def command(args: argparse.Namespace) -> str:
        from . import report

        rows = getattr(report, f"{name}_rows")()
        return report.to_json(rows) if args.json else report.table(rows)

    return command


COMMANDS = {
    "estimate": _estimate,
    "fit": _fit,
    "models": _listing("models"),
    "gpus": _listing("gpus"),
    "formats": _listing("formats"),
    "serve": _serve,
    "offload": _offload,
    "completion": _completion,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0: the answer is on stdout; 2: one ``gpumem: error: …`` line on stderr (a bad input, or
    stdout that cannot be written); 1: the reader of stdout went away (a closed pipe).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    _plain_output(sys.stdout)
    args = _output(lambda: _parse(_with_negative_values(argv) or ["--help"]))
    if isinstance(args, int):  # the help was printed, or an error
        return args
    try:
        text = COMMANDS[args.command](args)
    except GpumemError as error:
        print(error_line(error), file=sys.stderr)
        return 2
    return _output(lambda: _print(text)) or 0


def _parse(argv: list[str]) -> argparse.Namespace | int:
    """The parsed command line, or the exit status once argparse has printed the help or an
    error."""
    with_argparse = _argparse_speaks()
    try:
        parser = build_parser(only=argv[0] if argv[0] in COMMANDS else None)
        return parser.parse_args(argv)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 2
    finally:
        _argparse_speaks(with_argparse)


def _print(text: str) -> None:
    sys.stdout.write(text)


def _output(step: Callable[[], T]) -> T | int:
    """``step()``, which writes to stdout, and a flush; the exit status if writing failed."""
    try:
        if sys.stdout is None:
            raise OSError(_("standard output is closed"))
        result = step()
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return 1
    except OSError as error:  # a full disk, a closed descriptor
        _discard_stdout()
        problem = Text("cannot write the output: {reason}", reason=error.strerror or str(error))
        print(error_line(GpumemError(problem)), file=sys.stderr)
        return 2
    return result


#: Options that take no value: a word after them that starts with "-" is an option.
_FLAGS = ("-h", "--help", "--json", "--grad-checkpointing", "--fsdp")


def _with_negative_values(argv: list[str]) -> list[str]:
    """``--cuda-context -1GiB`` as ``--cuda-context=-1GiB``: argparse takes a word that starts
    with "-" for an option unless it is a plain number, so a negative size would be reported
    as a missing value instead of a bad one."""
    joined: list[str] = []
    for word in argv:
        previous = joined[-1] if joined else ""
        if (
            word[:1] == "-"
            and word[1:2] in "0123456789.,"
            and word[1:2]
            and previous.startswith("--")
            and "=" not in previous
            and previous not in _FLAGS
        ):
            joined[-1] = f"{previous}={word}"
        else:
            joined.append(word)
    return joined


#: Plain stand-ins for the few non-ASCII characters of the English output.
_PLAIN = {"·": "-", "×": "x", "…": "...", "≤": "<=", "≥": ">=", "→": "->", "–": "-", "—": "-"}


def _plain_output(stream: object) -> None:
    """Let a stream whose encoding lacks a character print a stand-in (``·`` → ``-``, else
    ``?``) instead of raising :class:`UnicodeEncodeError` (``PYTHONIOENCODING=ascii``); speak
    English if it cannot show Chinese."""
    import codecs

    if getattr(stream, "errors", None) != "strict" or not hasattr(stream, "reconfigure"):
        return
    if current_language() != "en":
        try:
            "显存".encode(stream.encoding)
        except (LookupError, UnicodeEncodeError):  # Chinese would print as "??"
            use_language("en")

    def plain(error: UnicodeError) -> tuple[str, int]:
        if not isinstance(error, UnicodeEncodeError):
            raise error
        text = error.object[error.start : error.end]
        return "".join(_PLAIN.get(c, "?") for c in text), error.end

    codecs.register_error("gpumem.plain", plain)
    stream.reconfigure(errors="gpumem.plain")


def _discard_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so that the interpreter's last flush of what is
    still buffered does not fail again on the way out."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no stdout, or not a file
        pass


def error_line(error: GpumemError) -> str:
    """The line ``gpumem: error: MESSAGE (HINT)`` in the user's language."""
    message = translate(error.message, _)
    if error.hint:
        message = _("{message} ({hint})").format(message=message, hint=translate(error.hint, _))
    return _("{prog}: error: {message}").format(prog="gpumem", message=message)


def _argparse_speaks(gettext=_):
    """Let argparse's own messages (``usage:``, ``options``…) come from gpumem's catalog.

    argparse looks its messages up with :func:`gettext.gettext`, in a domain that ships no
    Chinese; the module's ``_`` is swapped while gpumem builds and runs its parser. Returns the
    function it replaced, to put back with ``_argparse_speaks(previous)``.
    """
    previous = argparse._
    argparse._ = gettext
    return previous
