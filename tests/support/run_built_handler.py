"""Call one built function's handler the way Lambda lays it out, and print its answer.

Usage: python -I -S -B run_built_handler.py FUNCTION_DIR LAYER_PYTHON_DIR EVENT_FILE

Run with ``-I -S``, so nothing but the standard library, the function's folder (Lambda's /var/task)
and the core layer's ``python/`` folder (Lambda's /opt/python) can be imported: a module missing from
the build fails here as it would in Lambda. ``-B`` keeps bytecode out of the build.
"""

import json
import sys
import time
import uuid

function_dir, layer_python, event_file = sys.argv[1:4]
sys.path[:0] = [function_dir, layer_python]


class LambdaContext:
    function_name = "audiostream-built"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:audiostream-built"
    aws_request_id = str(uuid.uuid4())
    _deadline = time.monotonic() + 900

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


import app  # noqa: E402  (the function's own module, from function_dir)

with open(event_file) as source:
    event = json.load(source)
print("HANDLER-ANSWER " + json.dumps(app.handler(event, LambdaContext())), flush=True)
