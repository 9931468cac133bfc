"""
pulumi-live's local Python runtime: one process per remote execution environment of a Python function.

It imports the handler module as Lambda's Python runtime does (awslambdaric's bootstrap), then runs the
invocations its parent (cli/runtime/python/python-process.ts) sends, one at a time. The parent writes one
JSON message per line on fd 3; this process answers on fd 4, one JSON message per line: "log" for what the
handler prints or logs (in order with the answers), then "result", "error" or "fatal", as the Node.js
worker threads do (cli/runtime/worker-messages.ts).

argv[1] is the launch configuration, JSON: {"root": code folder, "handler": "app.handler", "debug": null or
{"host", "port"}}.
"""

import decimal
import importlib
import importlib.machinery
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback

BOOTSTRAP_FILE = os.path.abspath(__file__)

_out = None
_out_lock = threading.Lock()
_request_id = None


def post(message):
    """Sends one message to the parent; threads of the handler may print concurrently."""
    data = (json.dumps(message) + "\n").encode("utf-8")
    with _out_lock:
        _out.write(data)
        _out.flush()


class OutputCapture(object):
    """sys.stdout / sys.stderr: every write becomes a "log" message, so it arrives before the answer."""

    encoding = "utf-8"
    errors = "replace"
    closed = False

    def __init__(self, name, fd):
        self.name = name
        self._fd = fd
        self.buffer = BinaryCapture(self)

    def write(self, text):
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", "replace")
        if text:
            post({"type": "log", "stream": self.name, "text": text})
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False

    def fileno(self):
        # Code that writes to the descriptor itself (subprocesses, C libraries) reaches the real stream,
        # which the parent also reads.
        return self._fd


class BinaryCapture(object):
    """sys.stdout.buffer: bytes written by the handler, decoded as UTF-8."""

    def __init__(self, text):
        self._text = text

    def write(self, data):
        self._text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        pass


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id or ""
        record.tenant_id = None
        return True


class LambdaLogHandler(logging.Handler):
    """The root logger's handler in Lambda: formatted lines on standard output."""

    def emit(self, record):
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


def setup_logging():
    """As Lambda's runtime: one root handler with the request id; the level only from AWS_LAMBDA_LOG_LEVEL."""
    logging.Formatter.converter = time.gmtime
    handler = LambdaLogHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    if level in logging._nameToLevel:
        root.setLevel(level)
    root.addHandler(handler)


class FreshSourceLoader(importlib.machinery.SourceFileLoader):
    """
    Compiles the function's own modules from their source on every import: a cached .pyc is trusted when
    the source's size and mtime (whole seconds) match, so an edit within the same second that keeps the
    size would otherwise run the old code.
    """

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)


def install_fresh_loader(root):
    finder_hook = importlib.machinery.FileFinder.path_hook(
        (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
        (FreshSourceLoader, importlib.machinery.SOURCE_SUFFIXES),
        (importlib.machinery.SourcelessFileLoader, importlib.machinery.BYTECODE_SUFFIXES),
    )
    skipped = {"site-packages", "dist-packages", ".venv", "venv", "__pycache__"}

    def hook(entry):
        folder = os.path.abspath(entry or os.getcwd())
        inside = folder == root or folder.startswith(root + os.sep)
        parts = os.path.relpath(folder, root).split(os.sep) if inside else []
        if not inside or skipped.intersection(parts):
            raise ImportError("not the function's code")
        return finder_hook(entry)

    sys.path_hooks.insert(0, hook)
    sys.path_importer_cache.clear()


class Fault(Exception):
    """An error of the runtime itself, reported with Lambda's Runtime.* error types."""

    def __init__(self, error_type, message, trace=None):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def lambda_error(error_type, message, trace_lines):
    """Lambda's error shape as pulumi-live carries it: the first trace line names the error (see LambdaError)."""
    return {
        "errorType": error_type,
        "errorMessage": message,
        "trace": ["%s: %s" % (error_type, message)] + trace_lines,
    }


def traceback_lines(tb):
    """The traceback's frames as Lambda formats them, without this file's frames at the top."""
    frames = traceback.extract_tb(tb)
    for index, frame in enumerate(frames):
        if frame.filename != BOOTSTRAP_FILE:
            frames = frames[index:]
            break
    else:
        frames = []
    lines = []
    for entry in traceback.format_list(frames):
        lines.extend(entry.rstrip("\n").split("\n"))
    return lines


def exception_error(exc_info):
    error_type, value, tb = exc_info
    return lambda_error(error_type.__name__, str(value), traceback_lines(tb))


def fault_error(fault):
    lines = []
    for entry in fault.trace:
        lines.extend(entry.rstrip("\n").split("\n"))
    return lambda_error(fault.error_type, fault.message, lines)


def load_handler(handler):
    """Imports the module and finds the function, failing as Lambda's runtime fails (awslambdaric _get_handler)."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise Fault("Runtime.MalformedHandlerName", "Bad handler '{}': {}".format(handler, error))
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise Fault(
                "Runtime.BuiltInModuleConflict",
                "Cannot use built-in module {} as a handler module".format(module_name),
            )
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise Fault(
            "Runtime.ImportModuleError",
            "Unable to import module '{}': {}".format(module_name, error),
        )
    except SyntaxError as error:
        trace = ['  File "%s" Line %s\n    %s' % (error.filename, error.lineno, error.text)]
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '{}': {}".format(module_name, error),
            trace,
        )
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            "Handler '{}' missing on module '{}'".format(function_name, module_name),
        )


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]


def object_from(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field) if isinstance(values, dict) else None)
    return obj


class LambdaContext(object):
    """The `context` of Lambda's Python runtime, from the remote invocation's context."""

    def __init__(self, context, deadline_ms):
        self.aws_request_id = context.get("awsRequestId")
        self.log_group_name = context.get("logGroupName", os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME"))
        self.log_stream_name = context.get("logStreamName", os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"))
        self.function_name = context.get("functionName", os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
        self.memory_limit_in_mb = context.get(
            "memoryLimitInMB", os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        )
        self.function_version = context.get("functionVersion", os.environ.get("AWS_LAMBDA_FUNCTION_VERSION"))
        self.invoked_function_arn = context.get("invokedFunctionArn")
        self.tenant_id = None
        self.client_context = object_from(ClientContext, context.get("clientContext"))
        if self.client_context is not None:
            self.client_context.client = object_from(Client, self.client_context.client)
        self.identity = object_from(CognitoIdentity, {})
        identity = context.get("identity")
        if isinstance(identity, dict):
            self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,"
            "identity=%s,tenant_id=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


class ResultEncoder(json.JSONEncoder):
    """Lambda encodes Decimal as a number; NaN and infinities cannot cross as JSON and fail to marshal."""

    def default(self, obj):
        if isinstance(obj, decimal.Decimal):
            return int(obj) if obj == obj.to_integral_value() else float(obj)
        return json.JSONEncoder.default(self, obj)


def marshal(response):
    """The result as JSON text, or Runtime.MarshalError as Lambda's runtime reports it."""
    if isinstance(response, (bytes, bytearray)):
        try:
            text = bytes(response).decode("utf-8")
            json.loads(text)
            return text
        except ValueError:
            raise Fault(
                "Runtime.MarshalError",
                "Unable to marshal response: a bytes result must hold JSON text to be relayed",
            )
    try:
        return json.dumps(response, cls=ResultEncoder, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, OverflowError, RecursionError) as error:
        raise Fault("Runtime.MarshalError", "Unable to marshal response: {}".format(error))


def invoke(handler, message):
    global _request_id
    context = message["context"]
    _request_id = context.get("awsRequestId")
    started = time.perf_counter()
    try:
        response = handler(message["event"], LambdaContext(context, message["deadline"]))
        body = marshal(response)
    except Fault as fault:
        post({"type": "error", "error": fault_error(fault), "durationMs": elapsed_ms(started)})
        return
    except Exception:
        post({"type": "error", "error": exception_error(sys.exc_info()), "durationMs": elapsed_ms(started)})
        return
    post({"type": "result", "json": body, "durationMs": elapsed_ms(started)})


def elapsed_ms(started):
    return (time.perf_counter() - started) * 1000.0


def start_debugger(debug):
    """Listens for a debugpy client on the first free port from the one asked for; says where."""
    try:
        import debugpy
    except ImportError:
        post({"type": "debugger", "error": "debugpy is not installed in %s" % sys.executable})
        return
    last = None
    for port in range(debug["port"], debug["port"] + 32):
        try:
            debugpy.listen((debug["host"], port))
            post({"type": "debugger", "host": debug["host"], "port": port})
            return
        except Exception as error:
            last = error
    post({"type": "debugger", "error": "debugpy could not listen: %s" % last})


def main():
    global _out
    config = json.loads(sys.argv[1])
    for fd in (3, 4):
        os.set_inheritable(fd, False)
    commands = os.fdopen(3, "rb")
    _out = os.fdopen(4, "wb")
    # Ctrl+C reaches the whole terminal's process group: the parent decides when this process ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout = OutputCapture("stdout", 1)
    sys.stderr = OutputCapture("stderr", 2)

    root = config["root"]
    # The function's folder is the first entry of sys.path (LAMBDA_TASK_ROOT in Lambda), not this one's.
    here = os.path.dirname(BOOTSTRAP_FILE)
    sys.path[:] = [root] + [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    install_fresh_loader(root)
    setup_logging()
    if config.get("debug"):
        start_debugger(config["debug"])

    handler = None
    init_error = None
    try:
        handler = load_handler(config["handler"])
    except Fault as fault:
        init_error = fault_error(fault)
    except Exception:
        init_error = exception_error(sys.exc_info())

    while True:
        line = commands.readline()
        if not line:
            return
        message = json.loads(line)
        if init_error is not None:
            # As in Lambda, a failed init fails the invocation; the parent starts a fresh process next.
            post({"type": "fatal", "error": init_error})
            continue
        invoke(handler, message)


if __name__ == "__main__":
    main()
