"""``python -m devstack``: the whole service on one machine (what ``make run`` starts).

Storage is moto's server on loopback unless ``AWS_ENDPOINT_URL`` points at one already running
(MinIO, LocalStack); generation runs in background workers instead of async Lambda invocations.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

from audiostream import aws
from audiostream.config import get_settings
from audiostream.invoker import install_invoker

from .functions import load_handler
from .lambda_runtime import LocalInvoker
from .rate_limit import RateLimiter
from .resources import ensure_resources
from .server import LocalOrigin
from .storage_server import start_storage_server, stop_storage_server

REPO = Path(__file__).resolve().parents[1]

LOCAL_DEFAULTS = {
    "GENERATE_INVOKER": "local",
    "TTS_ENGINE": "espeak",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# moto accepts any credentials; real endpoints (MinIO, LocalStack) get the user's own.
MOTO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("werkzeug", "botocore.credentials", "botocore.configprovider"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(name, value)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))

    # SIGTERM (what a supervisor or a test sends) ends the stack like Ctrl+C, through the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    storage = os.environ.get("AWS_ENDPOINT_URL")
    moto = None
    if not storage:
        moto, endpoint = start_storage_server(host, int(os.environ.get("MOTO_PORT", "0")))
        for name, value in MOTO_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        storage = f"moto server at {endpoint}"
    aws.reset_clients()
    get_settings.cache_clear()
    settings = get_settings()
    ensure_resources(settings)

    install_invoker(
        LocalInvoker(
            load_handler("generate"),
            settings.local_generate_concurrency,
            on_failure=load_handler("failed_generations"),
        )
    )
    handlers = {name: load_handler(name) for name in ("start", "status")}
    web_root = Path(os.environ.get("WEB_DIR", REPO / "web" / "dist"))

    per_minute = int(os.environ.get("LOCAL_RATE_LIMIT_PER_MINUTE", "60"))
    origin = LocalOrigin((host, port), settings, handlers, web_root, RateLimiter(per_minute))
    url = f"http://{host}:{origin.server_address[1]}/"
    print(f"audiostream local stack ready at {url}", flush=True)
    print(
        f"  storage: {storage} (table {settings.sessions_table}, bucket {settings.media_bucket})\n"
        f"  engine: {settings.tts_engine} (offered: {', '.join(settings.tts_engines)}); "
        f"{settings.local_generate_concurrency} sessions generate at once\n"
        f'  open {url} in a browser, or: curl -s -X POST {url}audiostream/start/ -d \'{{"prompt": "Hello"}}\'',
        flush=True,
    )
    try:
        origin.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        origin.server_close()
        if moto is not None:
            stop_storage_server(moto)


if __name__ == "__main__":
    sys.exit(main())
