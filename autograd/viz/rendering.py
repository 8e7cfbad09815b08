"""Turning a drawing into a picture, with or without a system Graphviz.

The renderer is the system Graphviz `dot` when it is on PATH, else `graphviz-pure`, a Rust port
of dot that `pip install gradspace` brings along (looked up on PATH, then beside the running
Python, where pip puts console scripts). Both take DOT on stdin and `-T<format>`.

What each can make is asked from the program itself (`-T?` lists its formats), so an
unsupported format fails before anything is written, with an error naming the renderer and
what to install. graphviz-pure 0.2.2 makes svg, png and jpg (and DOT-like text formats),
but not pdf, ps or gif: for those install the system Graphviz.

`Drawing` is the graphviz.Digraph that draw_graph and draw_backward return: still a Digraph
(`.source`, `.node`, `.edge`, `.subgraph` all work), but it displays itself in a notebook
through this renderer instead of the system `dot` that graphviz's own display requires.
"""
import functools
import pathlib
import shutil
import subprocess
import sysconfig

PURE = "graphviz-pure"
SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".jpg": "jpg", ".jpeg": "jpeg",
            ".dot": None, ".gv": None}                   # None: the DOT source itself
TEXT_FORMATS = {"svg", "dot", "gv", "canon", "xdot", "plain", "plain-ext", "json", "json0",
                "dot_json", "xdot_json"}
# A raster picture is scaled down to fit this many inches (96 px each) unless the graph sets
# `size` itself: a 2,000-node chain at full size would need a 60 GB bitmap. SVG is never scaled.
RASTER_INCHES = 100
INSTALL = ("install the system Graphviz (apt install graphviz, brew install graphviz, "
           "conda install graphviz, or https://graphviz.org/download)")


def find_renderer():
    """(name, path) of the program that renders DOT: system `dot` first, else graphviz-pure.

    None when neither is found.
    """
    path = shutil.which("dot")
    if path:
        return "dot", path
    path = shutil.which(PURE) or shutil.which(PURE, path=sysconfig.get_path("scripts"))
    if path:
        return PURE, path
    return None


@functools.lru_cache(maxsize=8)
def renderer_formats(path):
    """The output formats the program at `path` supports, from its own `-T?` answer."""
    try:
        proc = subprocess.run([path, "-T?"], input=b"", capture_output=True, timeout=30,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    text = (proc.stderr + proc.stdout).decode("utf-8", "replace")
    _, _, listed = text.partition("Use one of:")
    return frozenset(word.split(":")[0] for word in listed.split())


def render(graph, format="svg", timeout=None):
    """The picture of `graph` (a Digraph, or DOT source text) in `format`.

    Returns str for SVG and the other text formats, bytes for png, jpg and pdf. Raises
    RuntimeError naming the renderer tried and what to install when no renderer is found or
    the one found cannot make `format`.
    """
    source = getattr(graph, "source", graph)
    if not isinstance(source, str):
        raise TypeError(f"render: expected a graphviz graph or DOT text, got "
                        f"{type(graph).__name__}")
    fmt = format.lower()
    found = find_renderer()
    if found is None:
        raise RuntimeError(f"render: no Graphviz renderer found to make {fmt}: tried the system "
                           f"`dot` and `{PURE}`, and neither is on PATH. `pip install {PURE}`, "
                           f"or {INSTALL}. Saving as .dot needs no renderer.")
    name, path = found
    formats = renderer_formats(path)
    if formats and fmt not in formats:
        hint = ("" if name == "dot" else f" For {fmt}, {INSTALL}: its `dot` is used when it is "
                f"on PATH.")
        shown = ", ".join(f for f in ("svg", "png", "jpg", "pdf") if f in formats)
        raise RuntimeError(f"render: the renderer {name} ({path}) cannot make {fmt!r}; it makes "
                           f"{shown or ', '.join(sorted(formats))}.{hint}")
    command = [path, f"-T{fmt}"]
    if fmt not in TEXT_FORMATS and fmt != "pdf":
        command.append(f"-Gsize={RASTER_INCHES},{RASTER_INCHES}")
    proc = subprocess.run(command, input=source.encode("utf-8"), capture_output=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"render: {name} ({path}) failed to make {fmt} "
                           f"(exit status {proc.returncode}): {message}")
    return proc.stdout.decode("utf-8") if fmt in TEXT_FORMATS else proc.stdout


def save(graph, path):
    """Write `graph` to `path` in the format its suffix names: .svg, .png, .jpg, .pdf, or .dot
    (.gv) for the DOT source, which needs no renderer. Returns the path.

    Everything is checked and rendered before the file is opened, so a failure leaves no file.
    """
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"save: cannot tell which format to write from the suffix of "
                         f"{str(path)!r}; use one of {', '.join(SUFFIXES)}")
    fmt = SUFFIXES[suffix]
    data = getattr(graph, "source", graph) if fmt is None else render(graph, fmt)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


@functools.lru_cache(maxsize=1)
def drawing_class():
    """The Drawing class, made on first use so that importing autograd.viz needs no graphviz."""
    import graphviz

    class Drawing(graphviz.Digraph):
        """A graphviz.Digraph that displays itself in notebooks through gradspace's renderer
        (system dot, else graphviz-pure). `caption` says what the drawing shows."""
        caption = ""

        def _repr_mimebundle_(self, include=None, exclude=None, **_):
            try:
                return {"image/svg+xml": render(self, "svg")}
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                return {"text/plain": f"{exc}\n\n{self.source}"}

        def _repr_image_svg_xml(self):
            return render(self, "svg")

        _repr_svg_ = _repr_image_svg_xml

        def _repr_image_png(self):
            return render(self, "png")

        def _repr_image_jpeg(self):
            return render(self, "jpg")

    Drawing.__module__ = __name__
    return Drawing


def __getattr__(name):
    # `Drawing` is made lazily; resolving it here also lets pickle find the class.
    if name == "Drawing":
        return drawing_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
