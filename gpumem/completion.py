"""Shell completion for ``gpumem``: a bash (or zsh) script written from the command's parser.

``gpumem completion bash`` prints a script that completes commands, options and their values:
model ids (and file names), GPU ids, number formats (inside comma-separated lists too) and the
words of the workload options. The lists are written into the script, so a <Tab> runs no
Python; print the script again after an upgrade. zsh runs the same script through its
``bashcompinit``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping

SHELLS = ("bash", "zsh")


def _values() -> dict[str, Callable[[], list[str]]]:
    """Words a value can take, by the destination of its option (or positional argument)."""
    from . import workload
    from .catalog import model_names
    from .hardware import gpu_names
    from .precision import format_names

    def fixed(words: tuple[str, ...]) -> Callable[[], list[str]]:
        return lambda: list(words)

    return {
        "model": model_names,
        "gpu": gpu_names,
        "dtype": format_names,
        "kv_dtype": format_names,
        "mode": fixed(workload.MODES),
        "precision": fixed(workload.PRECISIONS),
        "checkpointing": fixed(workload.CHECKPOINTING),
        "attention": fixed(workload.ATTENTION),
        "logits": fixed(workload.LOGITS),
        "optimizer": workload.optimizer_names,
        "optimizer_impl": fixed(workload.OPTIMIZER_IMPLS),
    }


#: Options whose value is a comma-separated list: each item is completed.
_LISTS = ("dtype", "kv_dtype")


def script(shell: str, commands: Mapping[str, argparse.ArgumentParser]) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`), for the parsers of
    ``commands`` (by name; each with the ``arguments`` it noted, see :mod:`gpumem.cli`)."""
    values = _values()
    options: dict[str, list[str]] = {}
    takes: dict[str, str] = {}  # option string -> words it takes ("" for any value)
    model = set()
    for name, parser in commands.items():
        options[name] = []
        for action in parser.arguments:  # type: ignore[attr-defined]
            if not action.option_strings:
                if action.dest == "model":
                    model.add(name)
                continue
            options[name] += action.option_strings
            if action.nargs == 0:  # a flag
                continue
            words = list(action.choices or ()) or values.get(action.dest, list)()
            for option in action.option_strings:
                takes[option] = " ".join(words)
    lists = [
        option
        for name, parser in commands.items()
        for action in parser.arguments  # type: ignore[attr-defined]
        if action.dest in _LISTS
        for option in action.option_strings
    ]
    cases = "\n".join(
        f"        {option}) words='{words}' ;;" for option, words in sorted(takes.items())
    )
    command_options = "\n".join(
        f"        {name}) words='{' '.join(opts)}' ;;" for name, opts in options.items()
    )
    text = _BASH.format(
        commands=" ".join(commands),
        models=" ".join(values["model"]()),
        cases=cases,
        command_options=command_options,
        lists="|".join(sorted(set(lists))) or "--",
        positional="|".join(sorted(model)) or "--",
        shells=" ".join(SHELLS),
        shell=shell,
    )
    if shell == "zsh":
        text = "autoload -U +X bashcompinit && bashcompinit\n" + text
    return text


_BASH = """\
# {shell} completion for gpumem, written by `gpumem completion`.
_gpumem() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} words='' prefix=''
    if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then prev=${{COMP_WORDS[COMP_CWORD-2]}}; fi
    if [[ $cur == = ]]; then cur=''; fi
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W '{commands} --help' -- "$cur"))
        return
    fi
    if [[ ${{COMP_WORDS[1]}} == completion ]]; then
        COMPREPLY=($(compgen -W '{shells}' -- "$cur"))
        return
    fi
    case $prev in
{cases}
        *) prev='' ;;
    esac
    if [[ -n $prev ]]; then
        case $prev in
            {lists}) if [[ $cur == *,* ]]; then prefix=${{cur%,*}},; cur=${{cur##*,}}; fi ;;
        esac
        COMPREPLY=($(compgen -P "$prefix" -W "$words" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        case ${{COMP_WORDS[1]}} in
{command_options}
        esac
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return
    fi
    case ${{COMP_WORDS[1]}} in
        {positional}) COMPREPLY=($(compgen -W '{models}' -- "$cur") $(compgen -f -- "$cur")) ;;
    esac
}}
complete -F _gpumem gpumem
"""
