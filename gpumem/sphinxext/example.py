"""The ``gpumem-example`` directive: a script from ``examples/``, a link to download it, and
what it prints when it runs.

``gpumem-example will_it_fit`` shows ``examples/will_it_fit.py`` as highlighted Python, a
download link, and the script's real output: the directive runs it at build time with the
build's Python, in an empty temporary folder. ``:image: breakdown.svg`` passes that file name
as the script's first argument and shows the image the script writes. A script that fails
fails the build.

Outputs are cached (``gpumem_examples_cache``) under a hash of the script, the files next to
it, the package and the Python version, so the English and the Chinese builds run each script
once. Everything generated is ``translatable=False``; the labels come from the extension's
catalog.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import SphinxError
from sphinx.transforms.post_transforms import SphinxPostTransform

from .directive import GpumemDirective
from .freshness import package_files
from .translation import gettext as _

TIMEOUT = 300  # seconds per script
# matplotlib reads ./matplotlibrc: fixed SVG ids and no date, so a chart has the same bytes
# in every build.
MATPLOTLIBRC = "backend: Agg\nsvg.hashsalt: gpumem\nsvg.fonttype: path\n"


class ExampleError(SphinxError):
    """An example script failed or printed nothing."""

    category = "Example failed"


def example_files(script: Path) -> list[Path]:
    """The files a script may read: every file in its folder and below, caches left out."""
    return sorted(
        p
        for p in script.parent.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def cache_key(script: Path, image: str | None) -> str:
    """Hash of everything the output depends on."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version}\0{image}\0{MATPLOTLIBRC}\0".encode())
    base = script.parent
    for path in example_files(script):
        digest.update(f"{path.relative_to(base).as_posix()}\0".encode() + path.read_bytes())
    for name in package_files():
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()[:20]


def run_example(script: Path, image: str | None, cache: Path) -> tuple[str, Path | None]:
    """The script's standard output, and the image it wrote (if ``image``), from the cache
    or from a fresh run."""
    folder = cache / f"{script.stem}-{cache_key(script, image)}"
    output = folder / "output.txt"
    written = folder / image if image else None
    if output.is_file() and (written is None or written.is_file()):
        return output.read_text(encoding="utf-8"), written
    with tempfile.TemporaryDirectory(prefix="gpumem-example-") as work:
        Path(work, "matplotlibrc").write_text(MATPLOTLIBRC, encoding="utf-8")
        env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "COLUMNS": "100"}
        env.pop("PYTHONSTARTUP", None)
        try:
            result = subprocess.run(
                [sys.executable, str(script), *([image] if image else [])],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
        except subprocess.TimeoutExpired as error:
            raise ExampleError(f"{script} ran longer than {TIMEOUT} s") from error
        if result.returncode != 0:
            raise ExampleError(
                f"{script} exited with status {result.returncode}:\n{result.stderr.strip()}"
            )
        if not result.stdout.strip():
            raise ExampleError(f"{script} printed nothing")
        if image and not Path(work, image).is_file():
            raise ExampleError(f"{script} did not write {image}")
        # Write into a fresh folder, then move it into place: a parallel build sees all or none.
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=cache))
        (staging / "output.txt").write_text(result.stdout, encoding="utf-8")
        if image:
            shutil.copyfile(Path(work, image), staging / image)
        try:
            staging.rename(folder)
        except OSError:  # another process was faster
            shutil.rmtree(staging, ignore_errors=True)
    return output.read_text(encoding="utf-8"), written


def labelled(text: str, name: str, node: nodes.Node) -> nodes.paragraph:
    """A paragraph of ``text`` (a translated label with ``{script}``) around ``node``."""
    before, _sep, after = text.partition("{script}")
    paragraph = nodes.paragraph(text.format(script=name), "", translatable=False)
    if before:
        paragraph += nodes.Text(before)
    paragraph += node
    if after:
        paragraph += nodes.Text(after)
    return paragraph


def file_name(text: str | None) -> str:
    """Converter of ``:image:``: a file name without a folder."""
    if not text or posixpath.basename(text) != text:
        raise ValueError(f"a file name without a folder, got {text!r}")
    return text


def code_listing(script: Path, shown: str) -> nodes.container:
    """The script's code as highlighted Python, captioned with its path ``shown``."""
    code = script.read_text(encoding="utf-8")
    literal = nodes.literal_block(code, code, language="python", translatable=False)
    caption = nodes.caption(shown, shown, translatable=False)
    listing = nodes.container("", caption, literal, literal_block=True)
    listing["classes"] += ["literal-block-wrapper", "gpumem-example-code"]
    return listing


def download_link(script: Path, doc_dir: Path, docname: str) -> addnodes.download_reference:
    """A link that downloads the script."""
    return addnodes.download_reference(
        "",
        "",
        nodes.literal(script.name, script.name, classes=["xref", "download"]),
        reftarget=os.path.relpath(script, doc_dir),
        refdoc=docname,
        refdomain="",
        reftype="download",
        refexplicit=True,
        refwarn=False,
    )


class ExampleDirective(GpumemDirective):
    """``gpumem-example NAME`` with an optional ``:image: FILE`` the script writes."""

    required_arguments = 1
    option_spec = {"image": file_name}

    def render(self) -> list[nodes.Node]:
        folder = Path(self.config.gpumem_examples_dir)
        script = (folder / f"{self.arguments[0]}.py").resolve()
        if not script.is_file():
            raise self.error(f"gpumem-example: no script {script.name} in {folder}")
        for path in example_files(script):
            self.env.note_dependency(str(path))
        cache = Path(self.config.gpumem_examples_cache)
        cache.mkdir(parents=True, exist_ok=True)
        output, written = run_example(script, self.options.get("image"), cache)
        doc_dir = Path(self.env.doc2path(self.env.docname)).parent
        shown = posixpath.join(folder.name, script.name)
        result: list[nodes.Node] = [
            code_listing(script, shown),
            labelled(
                _("Download {script}"),
                script.name,
                download_link(script, doc_dir, self.env.docname),
            ),
            labelled(_("Output of {script}:"), script.name, nodes.literal(shown, shown)),
            nodes.literal_block(output, output, language="text", translatable=False),
        ]
        if written is not None:
            picture = nodes.image(uri=os.path.relpath(written, doc_dir), classes=["gpumem-example"])
            picture["gpumem_alt"] = _("Image written by {script}").format(script=shown)
            result.append(picture)
        for node in result:
            self.set_source_info(node)
        return [nodes.container("", *result, classes=["gpumem-example"])]


class ExampleAltText(SphinxPostTransform):
    """Give example images their alternative text in HTML only: the gettext builder would
    put an ``alt`` it sees into the catalog."""

    default_priority = 200
    formats = ("html",)

    def run(self, **kwargs: object) -> None:
        for image in self.document.findall(nodes.image):
            if "gpumem_alt" in image:
                image["alt"] = image["gpumem_alt"]


def resolve_folders(app: Sphinx, config: Config) -> None:
    """Make the folders absolute: the scripts' relative to the configuration directory, the
    cache's next to the doctrees unless set."""
    config.gpumem_examples_dir = os.path.join(app.confdir, config.gpumem_examples_dir)
    if not config.gpumem_examples_cache:
        config.gpumem_examples_cache = os.path.join(app.doctreedir, "gpumem-examples")


def setup_example(app: Sphinx) -> None:
    """Register ``gpumem-example`` and its configuration values."""
    # Folder of the example scripts, relative to the configuration directory.
    app.add_config_value("gpumem_examples_dir", "examples", "env", types=frozenset({str}))
    # Folder of cached outputs; empty: next to the doctrees.
    app.add_config_value("gpumem_examples_cache", "", "", types=frozenset({str}))
    app.connect("config-inited", resolve_folders)
    app.add_directive("gpumem-example", ExampleDirective)
    app.add_post_transform(ExampleAltText)
