"""Developer commands: ``nox -s tests``, ``nox -s docs``, ``nox -s browser``, ``nox -s lint``,
``nox -s bench``."""

from __future__ import annotations

import filecmp
import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

PYTHON = "3.11"


def _install(session: nox.Session, *args: str) -> None:
    """``pip install`` that says what it installs, shows pip's progress, and is skipped when
    the same request already went into this session's environment."""
    stamp = Path(session.virtualenv.location, ".gpumem-install")
    request = " ".join(args) + "\0" + Path("pyproject.toml").read_text()
    # a copy of this checkout goes stale with the code; an editable install or a release does not
    copies_checkout = args[0] != "-e" and any(arg.startswith(".") for arg in args)
    if not copies_checkout and stamp.exists() and stamp.read_text() == request:
        session.log(f"installed: {' '.join(args)} (pyproject.toml unchanged)")
        return
    session.log(f"installing {' '.join(args)}: the first time takes a few minutes")
    session.install(*args, silent=False)
    stamp.write_text(request)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite (the Sphinx extension's tests included)."""
    _install(session, "-e", ".[test,docs]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Check style with ruff, and that imports go one way (pyproject.toml's import contract)."""
    _install(session, "ruff==0.17.*", "import-linter==2.*")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Print every target with its figure and a pass or miss: cold starts, the sweep, accuracy
    per family and split, the calculator's size; ``-- --docs`` also times the site's build."""
    _install(session, ".[test,docs]")  # not editable: the editable finder slows every start
    args = [arg for arg in session.posargs if arg != "--docs"]
    session.run("python", "benchmarks/bench.py", *args)
    if "--docs" in session.posargs:
        _bench_docs(session)


@nox.session(python=PYTHON, name="measure-check")
def measure_check(session: nox.Session) -> None:
    """Check the measurement harness: fake-tensor runs equal real runs (needs torch, CPU)."""
    _install(session, "-e", ".[measure,test]")
    session.run(
        "pytest",
        "tests/test_measure.py",
        "tests/test_measure_fsdp.py",
        "tests/test_measure_qlora.py",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def measure(session: nox.Session) -> None:
    """Measure what PyTorch allocates for the validation scenarios (many minutes, CPU).

    Rewrites gpumem/data/measurements.json; arguments after ``--`` go to
    ``python -m gpumem.measure`` (e.g. ``-- --models gpt2``).
    """
    _install(session, "-e", ".[measure]")
    session.run("python", "-m", "gpumem.measure", *session.posargs)


@nox.session(python=PYTHON)
def llamacpp(session: nox.Session) -> None:
    """Record what llama.cpp reports loading GGUF files of catalog models (CPU; building
    llama.cpp from source takes 10-30 min, the loads a few more; about 10 GB of disk).

    Rewrites gpumem/data/llamacpp_measurements.json, then checks gpumem against it; arguments
    after ``--`` go to ``python -m gpumem.measure.llamacpp`` (e.g. ``-- --workdir /tmp/gguf``).
    """
    session.env["CMAKE_ARGS"] = "-DGGML_NATIVE=OFF"
    _install(session, "-e", ".[llamacpp]", "pytest>=8")
    session.run("python", "-m", "gpumem.measure.llamacpp", *session.posargs)
    session.run("pytest", "tests/test_llamacpp_records.py")


# --- documentation: one sphinx-build process per language (translations are process-global) ---
LANGUAGES = ("en", "zh_CN")
SPHINX = "sphinx-build -c . -W --keep-going -n -q".split()
GETTEXT = [*SPHINX, "-b", "gettext", "-D", "nb_execution_mode=off", "-d", "_build/doctrees/gettext"]
PYBABEL = "pybabel {} -d gpumem/locale -D gpumem -l zh_CN"
#: The modules whose messages the command line shows (marked with _, N_ or Text): the
#: package's own, outside its Sphinx extension.
CLI_MESSAGES = sorted(str(path) for path in Path("gpumem").glob("*.py"))


#: What the site is built from; a build whose inputs have not changed is skipped.
DOCS_INPUTS = ("conf.py", "pyproject.toml", "docs", "gpumem", "examples")
DOCS_STAMP = Path("_build/.docs-inputs")


def _docs_inputs_digest() -> str:
    """Digest of every file the site is built from (compiled catalogs and caches excluded)."""
    digest = hashlib.sha256()
    for root in map(Path, DOCS_INPUTS):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or (path.suffix == ".mo" and path.parts[0] == "docs"):
                continue
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


#: The notebooks' IPython kernels: their own profile, reporting errors only. jupyter_client
#: starts them on local TCP, and each says so in a warning that tells a reader nothing.
IPYTHONDIR = Path("_build/ipython")
KERNEL_CONFIG = 'c.IPKernelApp.log_level = "ERROR"\n'


def _html(session: nox.Session, language: str, out: Path) -> None:
    """Build ``language`` into ``out/html/<language>``."""
    doctrees, html = out / "doctrees" / language, out / "html" / language
    kernel_config = IPYTHONDIR / "profile_default" / "ipython_kernel_config.py"
    kernel_config.parent.mkdir(parents=True, exist_ok=True)
    kernel_config.write_text(KERNEL_CONFIG)
    # -a: write every page, or sphinx-sitemap lists only the pages written this time
    session.run(
        *SPHINX,
        *("-b", "html", "-a", "-D", f"language={language}", "-d", doctrees, "docs", html),
        env={"IPYTHONDIR": str(IPYTHONDIR.resolve())},
    )
    # MyST-NB writes the executed notebooks next to the language folders; none is a page
    shutil.rmtree(out / "html" / "jupyter_execute", ignore_errors=True)


def _site(session: nox.Session, out: Path) -> None:
    """Check that the Chinese catalogs translate every message of the pages, then build both
    languages into ``out/html/<language>``."""
    gettext = [*GETTEXT[:-1], str(out / "doctrees" / "gettext")]  # GETTEXT ends with -d's folder
    session.run(*gettext, "docs", str(out / "gettext"))
    po = "docs/locale/zh_CN/LC_MESSAGES"
    session.run("python", "-m", "gpumem.sphinxext.catalogs", str(out / "gettext"), po)
    for language in LANGUAGES:
        _html(session, language, out)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the site into _build/html/<language>/ after checking that the Chinese catalogs are
    complete; ``-- --reproducible`` also rebuilds it from scratch and compares every byte."""
    _install(session, "-e", ".[docs]")
    reproducible = "--reproducible" in session.posargs
    if reproducible:  # compare two builds from scratch
        shutil.rmtree("_build/html", ignore_errors=True)
        shutil.rmtree("_build/doctrees", ignore_errors=True)
    start = time.perf_counter()
    digest = _docs_inputs_digest()
    if not reproducible and DOCS_STAMP.exists() and DOCS_STAMP.read_text() == digest:
        session.log(f"docs: up to date, no input changed ({time.perf_counter() - start:.1f} s)")
        return
    _site(session, Path("_build"))
    shutil.copy("docs/_root/index.html", "_build/html/index.html")
    DOCS_STAMP.write_text(digest)
    session.log(f"docs: built {', '.join(LANGUAGES)} in {time.perf_counter() - start:.1f} s")
    if reproducible:
        with tempfile.TemporaryDirectory() as fresh:
            files = []
            for language in LANGUAGES:
                _html(session, language, Path(fresh))
                tree = Path(fresh, "html", language)
                files += [str(p.relative_to(tree.parent)) for p in tree.rglob("*") if p.is_file()]
            html = Path(fresh, "html")
            _, differ, missing = filecmp.cmpfiles(html, "_build/html", files, shallow=False)
            if differ or missing:
                session.error(f"docs: not reproducible: {sorted(differ + missing)[:20]}")
            session.log(f"docs: {len(files)} files identical in a second build from scratch")


def _bench_docs(session: nox.Session) -> None:
    """Time the site's build (catalogs checked, both languages) into a temporary folder from
    scratch, then again with nothing changed, and the check by which ``nox -s docs`` skips a
    build whose inputs have not changed (targets 60 s and 5 s; wall time depends on the
    machine's load)."""
    seconds = []
    with tempfile.TemporaryDirectory() as out:
        for _ in ("cold", "no change"):
            start = time.perf_counter()
            _site(session, Path(out))
            seconds.append(time.perf_counter() - start)
    start = time.perf_counter()
    digest = _docs_inputs_digest()
    skipped = DOCS_STAMP.exists() and DOCS_STAMP.read_text() == digest
    check = time.perf_counter() - start
    lines = [
        ("docs: catalogs + en + zh_CN, cold (empty folder)", seconds[0], 60),
        ("docs: the same again, nothing changed (sphinx-build)", seconds[1], 5),
        ("docs: nox -s docs with no change (inputs' digest; build skipped)", check, 5),
    ]
    for name, value, goal in lines:
        mark = "pass" if value <= goal else "MISS"
        session.log(f"{name:<66} {value:7.2f} s   target <= {goal} s  {mark}")
    session.log("(the notebooks' outputs come from _build/jupyter_cache where it exists)")
    if not skipped:
        session.log("(_build/html is older than its inputs: nox -s docs would rebuild now)")


@nox.session(python=PYTHON)
def browser(session: nox.Session) -> None:
    """Check the built site (``nox -s docs`` first) in Debian's Chromium, ``apt-get install -y
    chromium``: every page of both languages over http and from disk, offline — console,
    formulas, table widths, axe-core, language switcher — and search; screenshots go to
    ``_build/screenshots/``. Arguments after ``--`` go to pytest."""
    _install(session, "-e", ".[browser]")
    session.log("installing axe-core from npm (tests/browser/package-lock.json)")
    session.run("npm", "ci", "--prefix", "tests/browser", "--no-audit", "--no-fund", external=True)
    session.run("pytest", "tests/browser", "--durations=5", *session.posargs)


@nox.session(python=PYTHON)
def i18n(session: nox.Session) -> None:
    """Update the Chinese catalogs from the English sources: the documents' (docs/locale) and
    the extension's and the command line's own words (gpumem/locale, compiled to the .mo that
    ships)."""
    _install(session, "-e", ".[docs]")
    session.run(*GETTEXT, "docs", "_build/gettext")
    session.run("sphinx-intl", "update", "-p", "_build/gettext", "-d", "docs/locale", "-l", "zh_CN")
    extract = "pybabel extract -F pyproject.toml -k _ -k N_ -k Text --no-location --omit-header"
    sources = ["gpumem/sphinxext", *CLI_MESSAGES, "gpumem/data"]  # data: the prose the site shows
    session.run(*extract.split(), "-o", "_build/gpumem.pot", *sources)
    session.run(*PYBABEL.format("update -i _build/gpumem.pot --no-fuzzy-matching").split())
    session.run(*PYBABEL.format("compile").split())
