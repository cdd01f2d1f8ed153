"""The Jinja2 templates of every file OCI writes for another program (docs/templates.md).

A template is looked up by name in the operator's override folder first (``[templates] dir``, default
``/etc/openstack-cluster-installer/templates``), then in the shipped ``share/templates``: a file of the same
name in the override folder replaces the shipped one, as Cobbler's and MAAS's users are used to.

The renderers stay pure: they take a typed model (and the ``Templates`` to lay it out with) and return text.
They compute everything (sorting, choosing, formatting); a template only lays out what it is given, so an
override cannot get a decision wrong. ``StrictUndefined`` makes a name the renderer does not give an error,
and every Jinja2 error becomes one ``ConfigError`` line naming the template file and line, never a traceback.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from oci.errors import ConfigError

if TYPE_CHECKING:
    import jinja2

# The library sits at <root>/lib/oci both in a checkout and in the package (whose root is
# /usr/share/openstack-cluster-installer, where debian/openstack-cluster-installer-common.install puts
# lib/oci and share/templates), so one relative path finds the shipped templates in both.
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "share" / "templates"


def _environment(override_dir: Path | None) -> jinja2.Environment:
    # Imported here: ocicli and oci-api import the renderers with the rest of the library, and only a render
    # needs Jinja2 (some 70 ms kept off the start of every command).
    import jinja2

    class Loader(jinja2.FileSystemLoader):
        """Jinja2's file loader, whose cached template also goes stale when an override appears or goes: an
        operator's new file takes effect in a running oci-api, as an edit of an existing one does."""

        def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
            source, filename, uptodate = super().get_source(environment, template)
            if override_dir is None:
                return source, filename, uptodate
            override = override_dir / template
            overridden = override.is_file()
            return source, filename, lambda: override.is_file() == overridden and uptodate()

    search = [os.fspath(override_dir)] if override_dir is not None else []
    return jinja2.Environment(
        loader=Loader([*search, os.fspath(SHIPPED_DIR)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 (no template is HTML: escaping would corrupt the files)
        # A line holding only a {% tag %} leaves nothing behind, so templates can be laid out readably.
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Templates:
    """The templates of one override folder (``None``: the shipped ones only), in a cached environment."""

    def __init__(self, override_dir: Path | None) -> None:
        self.override_dir = override_dir

    @functools.cached_property
    def _env(self) -> jinja2.Environment:
        return _environment(self.override_dir)

    def path(self, name: str) -> Path:
        """The file ``name`` is read from: the override when there is one, else the shipped template."""
        for folder in self._folders():
            if (folder / name).is_file():
                return folder / name
        raise self._not_found(name)

    def render(self, name: str, variables: Mapping[str, object]) -> str:
        import jinja2

        try:
            return self._env.get_template(name).render(variables)
        except jinja2.TemplateSyntaxError as exc:
            path = Path(exc.filename) if exc.filename else self.path(name)
            raise ConfigError(f"template {path}:{exc.lineno}: {_one_line(exc.message or exc)}", hint=self._hint(path)) from None
        except jinja2.TemplateNotFound as exc:
            raise self._not_found(exc.name if isinstance(exc.name, str) else name) from None
        except Exception as exc:  # StrictUndefined, or a filter given the wrong type: one line, the template's line
            path = self.path(name)
            raise ConfigError(f"template {_template_line(exc.__traceback__, path)}: {_one_line(exc)}", hint=self._hint(path)) from None

    def _hint(self, path: Path) -> str:
        if path.parent == SHIPPED_DIR:
            return "a shipped template does not match its renderer: please report this bug"
        return "fix or remove the override (docs/templates.md lists the variables each template gets)"

    def _folders(self) -> list[Path]:
        return ([self.override_dir] if self.override_dir is not None else []) + [SHIPPED_DIR]

    def _not_found(self, name: str) -> ConfigError:
        searched = " or ".join(os.fspath(d) for d in self._folders())
        return ConfigError(f"template {name} not found in {searched}", hint="reinstall openstack-cluster-installer")


def _one_line(what: Exception | str) -> str:
    text = " ".join(str(what).split())
    return text or type(what).__name__


def _template_line(tb: TracebackType | None, path: Path) -> str:
    """``path:line`` of the innermost frame of the template (Jinja2 rewrites its frames to template lines)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == os.fspath(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f"{path}:{line}" if line is not None else os.fspath(path)


@functools.lru_cache(maxsize=8)
def load(override_dir: Path | None = None) -> Templates:
    """The templates with ``override_dir`` first; one environment per folder, so Jinja2's compiled-template
    cache lasts (the API renders an iPXE script per boot). Jinja2 rereads a template whose file changed."""
    return Templates(override_dir)


def shipped() -> Templates:
    """The shipped templates only: what a renderer uses when its caller names no override folder."""
    return load(None)
