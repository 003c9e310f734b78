"""Call one built function's handler the way Lambda lays it out, and print its answer and every AWS call
it made.

Usage: python -I -S -X pycache_prefix=CACHE_DIR run_built_handler.py FUNCTION_DIR LAYER_PYTHON_DIR EVENT_FILE
       [TIMEOUT_SECONDS]

Run with ``-I -S``, so nothing but the standard library, the function's folder (Lambda's /var/task)
and the core layer's ``python/`` folder (Lambda's /opt/python) can be imported: a module missing from
the build fails here as it would in Lambda. ``-X pycache_prefix`` (or ``-B``) keeps bytecode out of
the build. The context reports the function's timeout (TIMEOUT_SECONDS, the template's ``Timeout``).

Prints (stdout) ``HANDLER-ANSWER <json>`` when the handler returns, and always ``AWS-CALLS <json>``: each
call the function made through botocore (service, operation, a summary of its parameters, HTTP status,
error code and message), recorded below the handler, so a refusal that the code catches and turns
into a log line, a batch item failure or a FAILURE state is seen all the same.

This module imports only the standard library at its top: the tests import its helpers too.
"""

import hashlib
import json
import sys
import time
import traceback
import uuid

CALLS_PREFIX = "AWS-CALLS "
ANSWER_PREFIX = "HANDLER-ANSWER "


class LambdaContext:
    function_name = "audiostream-built"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:audiostream-built"

    def __init__(self, timeout_seconds: float = 900):
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def _summary(value, limit: int = 4000):
    """Parameters as JSON can hold them: small bodies as text (a playlist, an invoke payload), big ones
    by their size."""
    if isinstance(value, dict):
        return {key: _summary(item, limit) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_summary(item, limit) for item in value]
    if isinstance(value, (bytes, bytearray)):
        if len(value) <= limit:
            try:
                return bytes(value).decode()
            except UnicodeDecodeError:
                pass
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "..."
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return repr(value)[:200]


def record_aws_calls() -> list[dict]:
    """Record every botocore API call of this process, from any thread, in the list answered."""
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    calls: list[dict] = []
    make_api_call = BaseClient._make_api_call

    def recorded(self, operation_name, api_params):
        call = {
            "service": self.meta.service_model.service_name,
            "operation": operation_name,
            "params": _summary(api_params),
        }
        calls.append(call)
        try:
            answer = make_api_call(self, operation_name, api_params)
        except ClientError as error:
            details = error.response.get("Error", {})
            call.update(
                status=error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
                code=str(details.get("Code")),
                message=str(details.get("Message", ""))[:1000],
            )
            raise
        except Exception as error:
            call.update(status=None, code=type(error).__name__, message=str(error)[:1000])
            raise
        call["status"] = answer.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return answer

    BaseClient._make_api_call = recorded
    return calls


def payload_hash_signing(add_auth):
    """``SigV4Auth.add_auth`` that first gives every request without a body the header
    ``X-Amz-Content-SHA256`` (the hash of the empty body), as S3 clients always send; AWS accepts it
    from any service.

    For moto's IAM checks only: when a request has no body, moto recomputes its signature over the
    *parsed query parameters* as if they were the body, so every bodiless GET outside S3 (Polly's
    DescribeVoices) fails with SignatureDoesNotMatch, even an administrator's, unless the signed
    request names its payload hash. What is authorized is unchanged."""
    empty = hashlib.sha256(b"").hexdigest()

    def with_payload_hash(self, request):
        if not request.body and "X-Amz-Content-SHA256" not in request.headers:
            request.headers["X-Amz-Content-SHA256"] = empty
        return add_auth(self, request)

    return with_payload_hash


def main(function_dir: str, layer_python: str, event_file: str, timeout_seconds: str = "900") -> int:
    sys.path[:0] = [function_dir, layer_python]
    calls = record_aws_calls()
    from botocore.auth import SigV4Auth

    SigV4Auth.add_auth = payload_hash_signing(SigV4Auth.add_auth)
    try:
        import app  # the function's own module, from function_dir

        with open(event_file) as source:
            event = json.load(source)
        answer = app.handler(event, LambdaContext(float(timeout_seconds)))
        print(ANSWER_PREFIX + json.dumps(answer), flush=True)
        return 0
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        # Threads the handler left running (none should) could still append; copy what is there now.
        print(CALLS_PREFIX + json.dumps(list(calls)), flush=True)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
