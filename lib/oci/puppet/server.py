"""The Puppet server on the master (Debian's ``puppetserver``): its configuration, rendered from OCI's settings,
the setup ``oci-puppet-setup`` runs (configuration, CA, report token), and the command that starts it.

The renderers are pure (``ServerSettings`` in, file contents out); ``setup`` writes what they return."""

from __future__ import annotations

import contextlib
import grp
import ipaddress
import os
import pwd
import secrets
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
    return f"http://{TOKEN_USER}:{token}@127.0.0.1:{cfg.listen[1]}/api/v1/puppet/report"


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
    token = read_token(store)
    made_token = token is None
    if token is None:
        token = secrets.token_urlsafe(32)
        store.write_blob("puppet", "report-token", data=(token + "\n").encode(), mode=0o600)
    settings = settings_for(cfg, token, certname, vardir)
    for path, (text, mode) in render(settings, templates.load(cfg.templates_dir)).items():
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
    }
