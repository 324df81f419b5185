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

from .errors import GpumemError, UnknownNameError, translate
from .i18n import N_, _

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

EPILOG_ESTIMATE = N_("""\
examples:
  gpumem estimate llama-3.1-8b                          # inference, BF16, 2,048 tokens
  gpumem estimate llama-3.1-8b --dtype q4_k_m --seq 32768 --kv-dtype fp8
  gpumem estimate mistral-7b-v0.1 --mode training --batch 4 --grad-checkpointing
  gpumem estimate llama-2-70b --mode training --lora-rank 16 --dtype nf4   # QLoRA
  gpumem estimate path/to/config.json --json

units: GB = 10^9 bytes (as GPU vendors print them), GiB = 2^30 bytes (as nvidia-smi and
PyTorch report them). Totals include the CUDA context and the allocator reserve; set
--cuda-context 0 --allocator-reserve 0 for tensor memory alone.""")

EPILOG_FIT = N_("""\
examples:
  gpumem fit llama-3.1-70b --gpu h100-sxm --dtype fp8
  gpumem fit qwen2.5-7b --gpu rtx-4090 --mode training --lora-rank 16 --dtype nf4""")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message instead of usage plus error."""

    def __init__(
        self, *args: object, formatter_class: type = argparse.HelpFormatter, **kwargs: object
    ) -> None:
        # Left to itself, argparse's formatter imports shutil (and with it bz2, lzma and zlib)
        # for the terminal width, which costs more than building the whole parser.
        formatter = partial(formatter_class, width=_terminal_columns() - 2)
        super().__init__(*args, formatter_class=formatter, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(
            2,
            _("{prog}: error: {message} (see '{prog} --help')").format(
                prog=self.prog, message=message
            )
            + "\n",
        )


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
        raise _type_error(N_("expected a positive integer, got {text!r}"), text) from None
    if value < 1:
        raise _type_error(N_("expected a positive integer, got {text!r}"), text)
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _type_error(N_("expected a number in [0, 1), got {text!r}"), text) from None
    if not 0 <= value < 1:
        raise _type_error(N_("expected a number in [0, 1), got {text!r}"), text)
    return value


def _bytes_arg(text: str) -> int:
    from .units import UNITS

    for unit in sorted(UNITS, key=len, reverse=True):
        if text.endswith(unit):
            number, scale = text[: -len(unit)], UNITS[unit]
            break
    else:
        number, scale = text, 1
    try:
        value = float(number) * scale
    except ValueError:
        raise _type_error(
            N_("expected a size such as 512MiB, 0.5GiB or 0, got {text!r}"), text
        ) from None
    if value < 0:
        raise _type_error(N_("expected a size >= 0, got {text!r}"), text)
    return round(value)


def _add_workload_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model", help=_("catalog id (see 'gpumem models'), a config.json or a model directory")
    )
    g = p.add_argument_group(_("workload"))
    g.add_argument(
        "--mode", default="inference", metavar="MODE", help=_("inference (default) or training")
    )
    g.add_argument(
        "--dtype",
        default="bf16",
        help=_(
            "weight format (see 'gpumem formats'); for training fp32, fp16 or bf16 (default: bf16)"
        ),
    )
    g.add_argument("--kv-dtype", help=_("KV-cache format (default: the activation format)"))
    g.add_argument("--batch", type=_positive, default=1, help=_("sequences per GPU (default: 1)"))
    g.add_argument(
        "--seq",
        type=_positive,
        help=_(
            "tokens per sequence, prompt plus output (default: 2048, or the "
            "model's context window if shorter)"
        ),
    )
    g.add_argument("--attention", default="flash", help=_("flash (fused, default) or eager"))
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
        action="store_const",
        const="full",
        dest="checkpointing",
        help=_("recompute activations (full checkpointing)"),
    )
    t.add_argument("--checkpointing", help=_("none, full or selective"))
    t.add_argument("--lora-rank", type=_positive, help=_("train LoRA adapters of this rank"))
    par = p.add_argument_group(_("parallelism (per-GPU memory is reported)"))
    par.add_argument("--dp", type=_positive, default=1, help=_("data-parallel GPUs"))
    par.add_argument("--tp", type=_positive, default=1, help=_("tensor-parallel GPUs"))
    par.add_argument("--pp", type=_positive, default=1, help=_("pipeline stages"))
    par.add_argument("--zero", type=int, default=0, help=_("ZeRO stage 0-3 (3 = FSDP)"))
    o = p.add_argument_group(_("runtime overhead"))
    o.add_argument(
        "--cuda-context",
        type=_bytes_arg,
        default=None,
        help=_("CUDA context and workspaces, e.g. 512MiB (default) or 0"),
    )
    o.add_argument(
        "--allocator-reserve",
        type=_fraction,
        default=None,
        help=_("allocator reserve as a fraction of tensor memory (default: 0.05)"),
    )
    p.add_argument("--json", action="store_true", help=_("print one JSON object (bytes)"))


def _workload(args: argparse.Namespace):
    from .workload import Workload

    names = (
        "mode",
        "dtype",
        "kv_dtype",
        "batch",
        "seq",
        "attention",
        "logits",
        "precision",
        "optimizer",
        "optimizer_impl",
        "checkpointing",
        "lora_rank",
        "dp",
        "tp",
        "pp",
        "zero",
        "cuda_context",
        "allocator_reserve",
    )
    given = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    return Workload(**given)


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
    from .i18n import use_language

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
        sub, name, text, _("Check a model and workload against a GPU."), _(EPILOG_FIT)
    )
    fit.add_argument("--gpu", required=True, help=_("GPU id (see 'gpumem gpus')"))
    return fit


def _add_workload_command(
    sub: argparse._SubParsersAction, name: str, text: str, description: str, epilog: str
) -> argparse.ArgumentParser:
    command = sub.add_parser(
        name,
        help=text,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_workload_options(command)
    return command


def _add_listing(sub: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    listing = sub.add_parser(name, help=text, description=_(LISTINGS[name][1]))
    listing.add_argument("--json", action="store_true", help=_("print JSON"))
    return listing


def _estimate(args: argparse.Namespace) -> str:
    from .estimate import estimate
    from .report import estimate_json, estimate_text, to_json

    result = estimate(args.model, _workload(args))
    return to_json(estimate_json(result)) if args.json else estimate_text(result)


def _fit(args: argparse.Namespace) -> str:
    from .report import fit_json, fit_text, to_json
    from .solve import answer

    result = answer(args.model, args.gpu, _workload(args))
    return to_json(fit_json(result)) if args.json else fit_text(result)


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
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        argv = ["--help"]
    with_argparse = _argparse_speaks()
    try:
        parser = build_parser(only=argv[0] if argv[0] in COMMANDS else None)
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, or a usage error already printed
        return done.code if isinstance(done.code, int) else 2
    finally:
        _argparse_speaks(with_argparse)
    try:
        text = COMMANDS[args.command](args)
        sys.stdout.write(text)
        sys.stdout.flush()
    except GpumemError as error:
        print(error_line(error), file=sys.stderr)
        return 2
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


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
