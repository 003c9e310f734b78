"""``python -m devstack``: the whole service on one machine (what ``make run`` starts).

Storage is moto's server on loopback unless ``AWS_ENDPOINT_URL`` points at one already running
(MinIO, LocalStack); generation runs in background workers instead of async Lambda invocations.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

from audiostream import aws
from audiostream.api.invoker import install_invoker
from audiostream.config import SettingsError, get_settings

from .client_sessions import ClientSessions
from .functions import load_handler
from .lambda_runtime import LocalInvoker
from .origin import LocalOrigin
from .resources import ensure_resources
from .server import OriginServer
from .settings import dev_stack_settings
from .storage_server import start_storage_server, stop_storage_server

LOCAL_DEFAULTS = {
    "GENERATE_INVOKER": "local",
    # English in the neural voice, every other language in espeak-ng: both offline.
    "TTS_ENGINE": "hibari,espeak",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# moto accepts any credentials; real endpoints (MinIO, LocalStack) get the user's own.
MOTO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def main() -> int:
    for name, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(name, value)
    try:
        local = dev_stack_settings()
        get_settings.cache_clear()
        get_settings()
    except SettingsError as error:
        print(f"audiostream local stack: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=local.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore.credentials", "botocore.configprovider", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    # SIGTERM (what a supervisor or a test sends) ends the stack like Ctrl+C, through the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    storage = os.environ.get("AWS_ENDPOINT_URL")
    moto = None
    if not storage:
        moto, endpoint = start_storage_server(local.host, local.moto_port)
        for name, value in MOTO_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        storage = f"moto server at {endpoint} (one request at a time)"
    aws.reset_clients()
    get_settings.cache_clear()
    settings = get_settings()
    ensure_resources(settings)

    # Starts hold a place per client; the local invoker keeps it until generate returns.
    client_sessions = ClientSessions(local.local_sessions_per_client)
    install_invoker(
        LocalInvoker(
            load_handler("generate"),
            settings.invocation.local_generate_concurrency,
            on_failure=load_handler("failed_generations"),
        )
    )
    handlers = {name: load_handler(name) for name in ("start", "status", "cancel")}
    origin = LocalOrigin(local, settings, handlers, client_sessions)
    server = OriginServer(origin, local)
    url = f"http://{local.host}:{server.address[1]}/"
    print(f"audiostream local stack ready at {url}", flush=True)
    print(
        f"  storage: {storage} (table {settings.storage.sessions_table}, bucket {settings.storage.media_bucket})\n"
        f"  engines: {', then '.join(settings.speech.tts_engine)} for a request that names none "
        f"(offered: {', '.join(settings.speech.tts_engines)}); "
        f"{settings.invocation.local_generate_concurrency} sessions generate at once, "
        f"{local.local_sessions_per_client or 'any number'} per client\n"
        f'  open {url} in a browser, or: curl -s -X POST {url}audiostream/start/ -d \'{{"prompt": "Hello"}}\'',
        flush=True,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        origin.close()
        if moto is not None:
            stop_storage_server(moto)
    return 0


if __name__ == "__main__":
    sys.exit(main())
