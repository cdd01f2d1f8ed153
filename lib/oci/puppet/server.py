"""The Puppet server on the master (Debian's ``puppetserver``): its configuration, rendered from OCI's settings,
the setup ``oci-puppet-setup`` runs (configuration, CA, report token), and the command that starts it.

The renderers are pure (``ServerSettings`` in, file contents out); ``setup`` writes what they return."""

from __future__ import annotations

import contextlib
import grp
import ipaddress
import os
import pwd
import re
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oci import names, run, templates
from oci import puppet as layout
from oci.config import Config
from oci.errors import ConfigError, Conflict
from oci.puppet import ca
from oci.service import install
from oci.store import Store
from oci.store.files import atomic_write
from oci.templates import Templates

HERE = Path(__file__).resolve().parents[3]  # a checkout's root, or /usr/share/openstack-cluster-installer
CHECKOUT_MODULES = HERE / "puppet-modules"
DEBIAN_MODULES = Path("/usr/share/puppet/modules")  # Debian's puppet-openstack modules (and an installed oci module)
PUPPETSERVER_HOME = Path("/usr/share/puppetserver")
DEBIAN_VARDIR = Path("/var/lib/puppetserver")
DEBIAN_CONFD = Path("/etc/puppet/puppetserver/conf.d")
# Debian's settings the server needs besides ours (routes, authorisation rules, metrics, CA): read where
# Debian installs them, so a confdir elsewhere (the PoC, the tests) needs no copy.
DEBIAN_SHARED = ("auth.conf", "web-routes.conf", "metrics.conf", "ca.conf")
BOOTSTRAP = Path("/etc/puppet/puppetserver/services.d")
# Debian's defaults (/etc/default/puppetserver): a 1 GB heap, measured 1.2 GB resident (docs/puppet-runs.md).
JAVA_HEAP = "1g"
TOKEN_USER = "puppetserver"  # noqa: S105 (the user name of the report URL; the token is the secret)
SETUP_TIMEOUT = 600  # `puppetserver ca setup` took 6 to 24 s here; a guard only
WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 (listen addresses meaning every address)
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


@dataclass(frozen=True)
class ServerSettings:
    confdir: Path
    vardir: Path  # the server's data (Debian: /var/lib/puppetserver); its run/ and log/ folders too, unless Debian's
    rundir: Path
    logdir: Path
    certname: str
    host: str
    port: int
    enc: Path
    modulepath: tuple[Path, ...]
    report_url: str


def token_path(store: Store) -> Path:
    """The secret the Puppet server sends its run reports with (basic auth, user ``puppetserver``)."""
    return store.blob_path("puppet", "report-token")


def read_token(store: Store) -> str | None:
    data = store.read_blob("puppet", "report-token")
    return data.decode().strip() if data else None


def report_url(cfg: Config, token: str) -> str:
    """Where the server posts run reports: the API on this host, at the address it listens on (127.0.0.1 when it
    listens on every address; a master usually listens on its provisioning address only), or at ``[boot] url``
    when that is plain HTTP (Apache serving the API on its own port). HTTPS is not used: Puppet's report
    processor trusts only Puppet's CA, and the token never leaves the host."""
    if cfg.boot_url.startswith("http://"):
        base = cfg.boot_url.rstrip("/").removeprefix("http://")
    else:
        host, port = cfg.listen
        host = "127.0.0.1" if host in WILDCARDS else host
        base = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"http://{TOKEN_USER}:{token}@{base}/api/v1/puppet/report"


def default_certname() -> str:
    """This host's FQDN as the server's certificate name; its host name when the FQDN is only a loopback alias
    (``localhost``: a host without a domain in /etc/hosts)."""
    for name in (socket.getfqdn(), socket.gethostname()):
        name = name.lower().rstrip(".")
        if name and name not in LOOPBACK_NAMES and not name.startswith("localhost."):
            return name
    raise ConfigError("this host has no name but localhost", hint="pass --certname, e.g. the master's FQDN")


def enc_command() -> Path:
    """Installed: the wrapper that runs oci-enc as the OCI service user (debian/oci-enc-puppet); a checkout: oci-enc."""
    wrapper = HERE / "puppet" / "oci-enc-puppet"
    return wrapper if wrapper.is_file() else HERE / "bin" / "oci-enc"


def module_path() -> tuple[Path, ...]:
    """Our module from a checkout first (installed, it is in Debian's folder), then Debian's."""
    return ((CHECKOUT_MODULES,) if CHECKOUT_MODULES.is_dir() else ()) + (DEBIAN_MODULES,)


def settings_for(cfg: Config, token: str, certname: str, vardir: Path | None = None) -> ServerSettings:
    """``vardir`` None: Debian's folders (an installed master); else the PoC's or a test's own."""
    host, port = cfg.puppet_listen
    if vardir is None:
        vardir, rundir, logdir = DEBIAN_VARDIR, Path("/run/puppetserver"), Path("/var/log/puppetserver")
    else:
        rundir, logdir = vardir / "run", vardir / "log"
    return ServerSettings(
        confdir=cfg.puppet_confdir,
        vardir=vardir,
        rundir=rundir,
        logdir=logdir,
        certname=certname,
        host=host,
        port=port,
        enc=enc_command(),
        modulepath=module_path(),
        report_url=report_url(cfg, token),
    )


def render(settings: ServerSettings, chosen: Templates) -> dict[Path, tuple[str, int]]:
    """Every file of the server's configuration: path -> (content, mode). puppet.conf holds the report token."""
    confdir = settings.confdir
    confd = layout.server_confd(confdir)
    values = {
        "confdir": confdir,
        "codedir": confdir / "code",
        "ssldir": layout.ssldir(confdir),
        "cadir": layout.cadir(confdir),
        "vardir": settings.vardir,
        "rundir": settings.rundir,
        "logdir": settings.logdir,
        "certname": settings.certname,
        "host": settings.host,
        "port": settings.port,
        "enc": settings.enc,
        "modulepath": [str(p) for p in settings.modulepath],
        "report_url": settings.report_url,
        "logback": confdir / "puppetserver" / "logback.xml",
    }
    return {
        layout.puppet_conf(confdir): (chosen.render("puppetserver-puppet.conf.j2", values), 0o640),
        confd / "webserver.conf": (chosen.render("puppetserver-webserver.conf.j2", values), 0o644),
        confd / "puppetserver.conf": (chosen.render("puppetserver-puppetserver.conf.j2", values), 0o644),
        confd / "global.conf": (chosen.render("puppetserver-global.conf.j2", values), 0o644),
        confdir / "puppetserver" / "logback.xml": (chosen.render("puppetserver-logback.xml.j2", values), 0o644),
    }


def debian_layout(confdir: Path) -> bool:
    """The master's own Puppet, in Debian's folders: the server's files there are Debian's packages' conffiles, so
    OCI sets its keys in them (``render_debian``) rather than writing them whole, and a package upgrade asks no
    question about what it did not change."""
    return layout.server_confd(confdir) == DEBIAN_CONFD


def render_debian(settings: ServerSettings, chosen: Templates, existing: Callable[[Path], str]) -> dict[Path, tuple[str, int]]:
    """What OCI changes in Debian's files (``existing`` reads one): puppet.conf with OCI's keys set, every other
    line kept; webserver.conf's address and port only where ``[puppet] listen`` differs from them. Debian's other
    settings already name Debian's folders, which this layout uses."""
    conf = layout.puppet_conf(settings.confdir)
    files = {conf: (merge_ini(existing(conf), render(settings, chosen)[conf][0]), 0o640)}
    web = layout.server_confd(settings.confdir) / "webserver.conf"
    current = existing(web)
    wanted = set_hocon_values(current, {"ssl-host": settings.host, "ssl-port": str(settings.port)}, web)
    if wanted != current:
        files[web] = (wanted, 0o644)
    return files


_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_INI_KEY = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=")
# Puppet 7 still reads [master], the old name of [server].
_SECTION_ALIASES = {"server": "master"}


def _ini_blocks(text: str) -> list[tuple[str | None, list[str]]]:
    """The file's lines by section: (name, lines from its header on); None for the lines before the first."""
    blocks: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        if match := _SECTION.match(line):
            blocks.append((match.group(1).strip(), []))
        blocks[-1][1].append(line)
    return blocks


def merge_ini(existing: str, wanted: str) -> str:
    """``existing`` (an INI file such as puppet.conf) with every key of ``wanted`` set in its section, as
    ``puppet config set`` does: a key's lines replaced where they are, a missing key added at its section's end,
    a missing section appended whole (its comments too). Every other line is kept."""
    blocks = _ini_blocks(existing)
    for name, lines in _ini_blocks(wanted):
        if name is None:
            continue  # the heading comment of a whole file
        found = next((b for b in blocks if b[0] in (name, _SECTION_ALIASES.get(name, name))), None)
        if found is None:
            last = blocks[-1][1]
            blocks.append((name, ([""] if last and last[-1].strip() else []) + lines))
            continue
        body = found[1]
        for line in lines:
            if not (match := _INI_KEY.match(line)):
                continue
            at = [i for i, old in enumerate(body) if (m := _INI_KEY.match(old)) and m.group(1) == match.group(1)]
            if at:
                for i in at:
                    body[i] = line
            else:
                end = max(i for i, old in enumerate(body) if old.strip()) + 1  # after the header at least
                body.insert(end, line)
    return "\n".join(line for _, lines in blocks for line in lines) + "\n"


def set_hocon_values(text: str, values: dict[str, str], path: Path) -> str:
    """``text`` (a HOCON file such as webserver.conf) with each ``key: value`` line of ``values`` set, where the
    value differs; a key the file does not have is refused (the server merges its files and refuses a key set in
    two, so OCI cannot add one in a file of its own)."""
    lines = text.splitlines()
    for key, value in values.items():
        pattern = re.compile(rf"^(\s*{re.escape(key)}\s*[:=]\s*)(.*?)\s*$")
        at = [i for i, line in enumerate(lines) if pattern.match(line)]
        if not at:
            raise ConfigError(f"{path} has no {key} setting to set", hint=f"add '{key}: {value}' to its webserver section")
        for i in at:
            match = pattern.match(lines[i])
            assert match is not None
            if match.group(2).strip('"') != value:
                lines[i] = match.group(1) + (f'"{value}"' if ":" in value else value)
    return "\n".join(lines) + "\n" if lines else ""


def command(settings: ServerSettings) -> list[str]:
    """The server in the foreground (what Debian's ``puppetserver foreground`` runs, with our folders): the
    caller runs it from PUPPETSERVER_HOME and stops it by ending this process (the JVM itself)."""
    confd = layout.server_confd(settings.confdir)
    shared = [str(DEBIAN_CONFD / name) for name in DEBIAN_SHARED if confd != DEBIAN_CONFD]
    return [
        "java", f"-Xms{JAVA_HEAP}", f"-Xmx{JAVA_HEAP}", "-Djruby.logger.class=com.puppetlabs.jruby_utils.jruby.Slf4jLogger",
        "-Djruby.lib=/usr/share/jruby/lib", "-XX:+CrashOnOutOfMemoryError", "-jar", str(PUPPETSERVER_HOME / "puppetserver.jar"),
        "--config", ",".join([*shared, str(confd)]), "--bootstrap-config", str(BOOTSTRAP),
    ]  # fmt: skip


def alt_names(cfg: Config, certname: str) -> list[str]:
    """The names in the server's certificate: its certname, and the name or address nodes reach it at (their
    puppet.conf ``server``), which their agent checks."""
    wanted = [certname]
    with contextlib.suppress(Conflict):  # the master's address for nodes is not configured yet: certname only
        wanted.append(install.puppet_server(cfg))
    unique = list(dict.fromkeys(wanted))
    return [f"IP:{name}" if _is_address(name) else f"DNS:{name}" for name in unique]


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _share(store: Store, confdir: Path) -> None:
    """Run as root (an installed master): the token belongs to the state directory's owner (oci-api reads it);
    the CA and the server's ssldir to group ``puppet``, group-writable, so that the OCI service user (a member,
    added by the postinst) issues and revokes, and the server (user ``puppet``) reads; puppet.conf, which holds
    the token, is root:puppet 0640."""
    state = store.root.stat()
    for path in (token_path(store).parent, token_path(store)):  # the folder too: root made it for the token
        os.chown(path, state.st_uid, state.st_gid)
    try:
        puppet = grp.getgrnam("puppet")
    except KeyError:  # no puppet group: a machine without the Puppet packages' users
        return
    os.chown(layout.puppet_conf(confdir), 0, puppet.gr_gid)
    for tree in (layout.cadir(confdir), layout.ssldir(confdir)):
        for path in (tree, *tree.rglob("*")):
            os.chown(path, pwd.getpwnam("puppet").pw_uid, puppet.gr_gid, follow_symlinks=False)
            if not path.is_symlink():
                os.chmod(path, path.stat().st_mode | (0o070 if path.is_dir() else 0o060))


def setup(store: Store, certname: str, vardir: Path | None = None) -> dict[str, object]:
    """Write the server's configuration (atomically), make its CA if there is none, and the report token (0600)
    if there is none. Safe to run again: it rewrites the configuration, keeps the CA and the token."""
    names.fqdn(certname, "certname")
    cfg = store.config
    if debian_layout(cfg.puppet_confdir):
        if vardir is not None:
            raise ConfigError(f"--vardir needs a [puppet] confdir of OCI's own: {cfg.puppet_confdir} is Debian's, with its folders")
        if not DEBIAN_CONFD.is_dir():
            raise ConfigError("puppetserver is not installed", hint="apt-get install puppetserver")
    token = read_token(store)
    made_token = token is None
    if token is None:
        token = secrets.token_urlsafe(32)
        store.write_blob("puppet", "report-token", data=(token + "\n").encode(), mode=0o600)
    settings = settings_for(cfg, token, certname, vardir)
    chosen = templates.load(cfg.templates_dir)
    files = render_debian(settings, chosen, _existing_text) if debian_layout(settings.confdir) else render(settings, chosen)
    for path, (text, mode) in files.items():
        atomic_write(path, text.encode(), mode=mode)
    (settings.confdir / "code" / "environments" / "production").mkdir(parents=True, exist_ok=True)
    made_ca = not ca.ready(store)
    if made_ca:
        argv = ["puppetserver", "ca", "setup", "--config", str(layout.puppet_conf(settings.confdir)), "--certname", certname]
        try:
            run.run([*argv, "--subject-alt-names", ",".join(alt_names(cfg, certname))], timeout=SETUP_TIMEOUT)
        except run.CommandError as exc:
            if exc.returncode == 127:
                raise ConfigError("puppetserver is not installed", hint="apt-get install puppetserver") from None
            raise
    if os.geteuid() == 0:
        _share(store, settings.confdir)
    return {
        "confdir": str(settings.confdir),
        "certname": certname,
        "listen": f"{settings.host}:{settings.port}",
        "ca": "created" if made_ca else "kept",
        "token": "created" if made_token else "kept",
        "written": [str(path) for path in files],
    }


def _existing_text(path: Path) -> str:
    return path.read_text() if path.exists() else ""
