"""Warm workers: the process that `run.jobs > 1` starts its workers in, and what it prepares for them.

On Linux, workers are forked from a *forkserver*: a fresh interpreter that `multiprocessing` starts with the
first pool of a parent process and keeps for that process's later pools. Before it forks anything, it
imports `pipeline.preload`, which runs `preload()`: the default pipeline once over two small documents of
its own (an HTML page and a plain text), so that what every worker's setup and first document would pay
for is done there once (imports of trafilatura, htmldate, lxml, ftfy, numpy; the regular expressions they
and the rule files compile on first use; the language model and the arrays derived from it, which stages
keep in module-level caches). A worker is a fork of it: that state is there from its first instruction,
shared copy-on-write with the server and the other workers, and its stages' `setup()` (still called, with
the run's config) finds its caches filled wherever the run's options are the defaults or do not matter.
After the warm-up the server collects its garbage and freezes what is left (`gc.freeze()`, the practice
Python's documentation gives for forking): a worker's garbage collector then never writes to those objects'
headers, so their pages stay shared instead of being copied into every worker, and its full collections do
not walk them (`--jobs 2` over the text corpus: the processes' summed PSS 292 -> 265 MB, their private dirty
memory 158 -> 126 MB).

Why not fork the parent, which is warm too: it may run threads (Ray, CTranslate2's pools, a library
user's own), and a forked child keeps only the forking thread, with every lock another thread held locked
forever. The server has started none but the idle thread pool of numpy's OpenBLAS, which OpenBLAS resets
in a forked child (a `pthread_atfork` handler); `preload()` translates nothing, so no CTranslate2 pool
exists there. Where there is no forkserver (Windows), or where forking even a thread-free process is
unsafe once system libraries are loaded (macOS: Accelerate and the Objective-C runtime may abort or hang in
a forked child, which is why Python spawns there by default), workers are spawned: each imports and sets
up everything itself, about a second each. So are they where the working directory holds a `pipeline` or
`stages` package of its own, which the server might import instead of tamis's (`_shadowed`).

The server warms up with the defaults, not with a run's config, because it serves every later pool of its
parent. A worker takes the parent's environment variables as they are when it starts (`pipeline.workers`),
but a library the server imported read its own at the server's start (`OPENBLAS_NUM_THREADS`, say). The
server forgets the lists of registered stages and detectors it read, so a plugin installed after it
started is found by the workers as by the parent.
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
import warnings
from multiprocessing.context import BaseContext
from pathlib import Path

from pipeline import config as config_module
from pipeline import registry
from pipeline.document import Document
from pipeline.runner import Pipeline

START_METHOD = "forkserver" if sys.platform.startswith("linux") else "spawn"
PRELOAD_MODULE = "pipeline.preload"

# Two small documents in the default languages' main one, French, that pass every default stage: a page with
# the furniture and metadata the HTML path reads (menu, byline, date, footer), and a plain text with a byline.
# Only French, so that `translate` has nothing to do and loads no model (it would start threads).
_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Le marché couvert rouvre ses portes | Le Journal</title>
<meta name="author" content="Claire Martin">
<meta property="article:published_time" content="2024-03-05T08:30:00+01:00">
<meta property="og:site_name" content="Le Journal"><link rel="canonical" href="https://example.org/marche"></head>
<body><nav><ul><li><a href="/">Accueil</a></li><li><a href="/ville">Ville</a></li><li><a href="/sport">Sport</a></li>
</ul></nav>
<article><h1>Le marché couvert rouvre ses portes</h1><p class="byline">Par Claire Martin, le 5 mars 2024</p>
<p>Après deux ans de travaux, le marché couvert du centre-ville a rouvert ses portes samedi matin. Les habitants
sont venus nombreux pour découvrir les nouvelles allées, plus larges et mieux éclairées qu'auparavant.</p>
<p>« Nous attendions ce moment depuis longtemps », explique une commerçante installée depuis vingt ans. Les
étals de fruits, de fromages et de poissons ont retrouvé leur place, et une dizaine de nouveaux producteurs
de la région les ont rejoints.</p>
<p>La municipalité a investi près de quatre millions d'euros dans la rénovation du bâtiment, qui date de 1902.
Le marché sera ouvert du mardi au dimanche, de sept heures à treize heures.</p></article>
<footer><p>© 2024 Le Journal. Tous droits réservés.</p><a href="/contact">Contact</a></footer></body></html>
"""
_TEXT = """Le marché couvert rouvre ses portes

Par Claire Martin

Après deux ans de travaux, le marché couvert du centre-ville a rouvert ses portes samedi matin. Les habitants
sont venus nombreux pour découvrir les nouvelles allées, plus larges et mieux éclairées qu'auparavant.

La municipalité a investi près de quatre millions d'euros dans la rénovation du bâtiment, qui date de 1902.
"""


def context() -> BaseContext:
    """The `multiprocessing` context workers start in: the warm forkserver where `START_METHOD` says so,
    else spawn. The preload is set for the whole process (there is one forkserver per process), and takes
    effect when the server starts: a server that another part of the program started first is used as it
    is, warm or not; the workers are as correct either way, only slower to start."""
    if START_METHOD == "spawn" or _shadowed():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([PRELOAD_MODULE])
    return ctx


def _shadowed() -> bool:
    """Whether the working directory holds a `pipeline` or `stages` package or module that is not tamis's.
    Before Python 3.12.8 and 3.13.1 a forkserver's path starts with the working directory, not with the
    parent's path, so the server would import that one instead, and run its code; spawned workers take the
    parent's path before they import anything of tamis's."""
    here, root = Path.cwd().resolve(), Path(__file__).resolve().parent.parent
    return here != root and any((here / name / "__init__.py").is_file() or (here / f"{name}.py").is_file()
                                for name in ("pipeline", "stages"))


def documents() -> list[Document]:
    """The documents the warm-up runs: a page and a plain text, both French."""
    return [Document(id="warm.html", source="pipeline.warm", content_type="text/html", raw=_PAGE.encode()),
            Document(id="warm.txt", source="pipeline.warm", raw=_TEXT.encode())]


def preload() -> None:
    """Run the default pipeline over `documents()`, so that a process forked afterwards starts
    with what it fills (imports, compiled expressions, models kept in module-level caches). A failure only
    makes the workers start cold, which a warning says; the registries' lists are forgotten either way."""
    try:
        specs = config_module.load(None).stages
        # No run.timeout: its alarm handler would stay installed in every worker.
        pipe = Pipeline([spec.cls(spec.config) for spec in specs], names=[spec.instance for spec in specs])
        try:
            pipe.process(documents())
        finally:
            pipe.close()
    except Exception as exc:
        warnings.warn(f"tamis: the worker warm-up failed, workers will set up from cold: "
                      f"{type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=1)
    finally:
        registry.forget()  # a plugin installed later must be found by the workers
        gc.collect()
        gc.freeze()
