"""The preview's PDFs: rendered when asked for, in a renderer process kept warm, or taken
from the build's cache when that state was rendered before; and, once a page's PDF has
been asked for, rendered ahead each time that page changes, so that the next request
finds it made or under way (a writer who follows the PDF does not wait for all of it).

One render at a time (the renderer's lock). A render ahead that a newer change has
superseded before it starts is skipped; one under way runs to its end (a render cannot
be stopped halfway without losing the warm renderer). A render ahead that fails is
forgotten: asked for, the PDF is rendered again and the problem said then.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from reportkit.project import Project
from reportkit.run.prepare import Prepared


class Pdfs:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.lock = threading.Lock()
        """Held by each render: the renderer renders one document at a time."""
        self.wanted: set[str] = set()
        """The PDFs asked for: those rendered ahead."""
        self.renders = 0
        """PDFs rendered (asked for, or ahead)."""
        self.ahead = 0
        """Of which rendered ahead."""
        self._ready: dict[str, tuple[str, bytes]] = {}   # name -> (content key, PDF)
        self._latest: dict[str, tuple[Prepared, str]] = {}   # name -> what to render ahead
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._renderer = None
        self._count = 0

    def get(self, name: str, prepared: Prepared, lang: str
            ) -> tuple[bytes, Callable[[], None] | None]:
        """The PDF ``name`` of ``prepared`` in ``lang``, and what is left to do once it is
        sent (keep it in the cache), if anything."""
        from reportkit.run.build import content_key

        key = content_key(prepared, name)
        self.wanted.add(name)
        found = self._found(name, key)
        if found is not None:
            return found, None
        with self.lock:   # (waits for a render ahead under way: maybe this very one)
            found = self._found(name, key)
            if found is not None:
                return found, None
            rendered = self._render(prepared, lang, name)
        return rendered.data, lambda: self._put(key, rendered)

    def changed(self, name: str, prepared: Prepared, lang: str) -> None:
        """The page whose PDF is ``name`` shows ``prepared`` now: render it ahead when
        that PDF was asked for before."""
        if name not in self.wanted or self._closing:
            return
        self._latest[name] = (prepared, lang)
        if self._thread is None:
            self._thread = threading.Thread(target=self._render_ahead, daemon=True,
                                            name='pdf-ahead')
            self._thread.start()
        self._wake.set()

    def _found(self, name: str, key: str) -> bytes | None:
        from reportkit.cache import PdfCache

        ready = self._ready.get(name)
        if ready is not None and ready[0] == key:
            return ready[1]
        hit = PdfCache(self.project.build / 'cache' / 'pdf').get(key)
        return hit.path.read_bytes() if hit is not None else None

    def _render_ahead(self) -> None:
        from reportkit.run.build import content_key

        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closing:
                return
            for name, asked in list(self._latest.items()):
                with self.lock:
                    if self._closing:
                        return
                    if self._latest.get(name) is not asked:   # superseded: the next turn
                        continue
                    key = content_key(asked[0], name)
                    if self._found(name, key) is not None:
                        continue
                    try:
                        rendered = self._render(*asked, name)
                    except Exception:   # noqa: BLE001 - said when the PDF is asked for
                        continue
                    self.ahead += 1
                    self._ready[name] = (key, rendered.data)
                self._put(key, rendered)

    def _render(self, prepared: Prepared, lang: str, name: str):
        from reportkit.run.render import render_language

        rendered, _ = render_language(self.project, prepared, lang, None,
                                      renderer=self.warm_renderer(), name=name, keep=True)
        self._count += 1
        self.renders += 1
        return rendered

    def _put(self, key: str, rendered) -> None:
        """The PDF put in the build's cache (through a hidden file, as the build does)."""
        import os
        import tempfile

        from reportkit.cache import PdfCache
        from reportkit.safety.worker import part_prefix

        self.project.build.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=part_prefix('preview.pdf'), suffix='.part',
                                        dir=self.project.build)
        try:
            with os.fdopen(handle, 'wb') as stream:
                stream.write(rendered.data)
            PdfCache(self.project.build / 'cache' / 'pdf').put(key, Path(temp),
                                                               rendered.pages)
        except OSError:
            pass   # a cache that cannot be written is only slower
        finally:
            Path(temp).unlink(missing_ok=True)

    def warm_renderer(self):
        """The renderer process (WeasyPrint loaded), a fresh one after
        ``RENDERS_PER_RENDERER`` documents. Call it holding :attr:`lock`."""
        from reportkit.render.pdf import start_renderer
        from reportkit.run.render import RENDERS_PER_RENDERER

        if self._renderer is not None and (not self._renderer.alive
                                           or self._count >= RENDERS_PER_RENDERER):
            self._renderer.stop()
            self._renderer = None
        if self._renderer is None:
            self._renderer = start_renderer(self.project.templates / 'fonts',
                                            self.project.build)
            self._count = 0
        return self._renderer

    def close(self) -> None:
        """Stop rendering ahead (a render under way ends first) and stop the renderer."""
        self._closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with self.lock:
            if self._renderer is not None:
                self._renderer.stop()
                self._renderer = None
