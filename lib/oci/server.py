"""``oci-api``: serve the API with waitress, a threaded WSGI server packaged in Debian.

Apache with mod_wsgi can serve the same application later (``make_app``); this entry point is for the
embedded use (``make poc``, tests, small sites).
"""

from __future__ import annotations

import argparse
import logging
import signal
import ssl
import sys
from pathlib import Path
from types import FrameType

import waitress

from oci import config as config_mod
from oci import tlsserver
from oci.api import MAX_BODY_BYTES, make_app
from oci.errors import ConfigError, OciError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="oci-api",
        description="Serve the OCI HTTP API (reports from discovery agents, operator commands).",
        epilog="Exit codes: 0 stopped cleanly, 1 error (bad configuration, address in use), 2 usage.",
    )
    parser.add_argument("--listen", metavar="ADDR:PORT", help="address to listen on (default: [api] listen, 127.0.0.1:8080)")
    parser.add_argument("--threads", type=int, metavar="N", help="worker threads (default: [api] threads, 8)")
    parser.add_argument("--tls-cert", type=Path, metavar="FILE", help="serve HTTPS with this certificate (default: [api] tls_certificate)")
    parser.add_argument("--tls-key", type=Path, metavar="FILE", help="private key of --tls-cert (default: [api] tls_key)")
    parser.add_argument("--debug", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # waitress warns at every queued request once all threads are busy: a burst of reports from a rack
    # booting at once is normal here, and logging each one costs more than serving it.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        cfg = config_mod.load()
        host, port = config_mod.parse_listen(args.listen) if args.listen else cfg.listen
        threads = args.threads or cfg.threads
        store = config_mod.open_store(cfg)
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        store.remove_stale_temp_files()  # what writers killed mid-write (a crash, kill -9) left behind
        app = make_app(store, trusted=cfg.trusted_networks)

        def stop(signum: int, frame: FrameType | None) -> None:
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        certificate = args.tls_cert or cfg.tls_certificate
        key = args.tls_key or cfg.tls_key
        if (certificate is None) != (key is None):
            raise ConfigError("a TLS certificate and its key go together", hint="give both --tls-cert and --tls-key")
        if certificate is not None and key is not None:
            logging.getLogger("oci.api").info("serving state %s on https://%s:%d", cfg.state_dir, host, port)
            try:
                tlsserver.serve(app, host, port, certificate, key)
            except ssl.SSLError as exc:
                raise ConfigError(f"cannot use {certificate} and {key}: {exc.reason or exc}") from None
            return 0
        logging.getLogger("oci.api").info("serving state %s on %s:%d with %d threads", cfg.state_dir, host, port, threads)
        waitress.serve(
            app,
            host=host,
            port=port,
            threads=threads,
            max_request_body_size=MAX_BODY_BYTES + 1,
            ident="oci-api",
            connection_limit=1000,
            backlog=1024,
            _quiet=not args.debug,
        )
    except OciError as exc:
        print(f"oci-api: error: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""), file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"oci-api: error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
