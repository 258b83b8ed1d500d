"""API errors rendered as meta/v1 Status objects."""

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """An error that becomes an HTTP response carrying a Status object."""

    def __init__(self, code, message, reason=None, name=None, kind=None,
                 group=None, causes=None, headers=None, retry_after=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.name = name
        self.kind = kind
        self.group = group
        self.causes = causes
        self.headers = headers or {}
        self.retry_after = retry_after

    def status(self):
        st = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details = {}
        if self.name is not None:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind is not None:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = self.causes
        if self.retry_after is not None:
            details["retryAfterSeconds"] = self.retry_after
        if details:
            st["details"] = details
        return st


def qualified(resource, group):
    return resource if not group else "%s.%s" % (resource, group)


def not_found(resource, group, name):
    return ApiError(404, '%s "%s" not found' % (qualified(resource, group), name),
                    "NotFound", name=name, kind=resource, group=group)


def already_exists(resource, group, name):
    return ApiError(409, '%s "%s" already exists' % (qualified(resource, group), name),
                    "AlreadyExists", name=name, kind=resource, group=group)


def conflict(resource, group, name, why=None):
    msg = why or ("the object has been modified; please apply your changes "
                  "to the latest version and try again")
    return ApiError(409, 'Operation cannot be fulfilled on %s "%s": %s'
                    % (qualified(resource, group), name, msg),
                    "Conflict", name=name, kind=resource, group=group)


def invalid(kind, group, name, causes):
    """causes: list of (field, message, reason)"""
    parts = []
    cs = []
    for field, msg, why in causes:
        parts.append("%s: %s" % (field, msg))
        cs.append({"reason": why or "FieldValueInvalid", "message": msg, "field": field})
    text = '%s "%s" is invalid: ' % (kind, name)
    if len(parts) == 1:
        text += parts[0]
    else:
        text += "[" + ", ".join(parts) + "]"
    return ApiError(422, text, "Invalid", name=name, kind=kind, group=group, causes=cs)


def bad_request(msg):
    return ApiError(400, msg, "BadRequest")


def forbidden(msg, name=None, kind=None, group=None):
    return ApiError(403, msg, "Forbidden", name=name, kind=kind, group=group)


def gone(msg, reason="Expired"):
    return ApiError(410, msg, reason)


def success_status(name=None, kind=None, group=None, uid=None, code=200):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    details = {}
    if name is not None:
        details["name"] = name
    if group:
        details["group"] = group
    if kind is not None:
        details["kind"] = kind
    if uid:
        details["uid"] = uid
    if details:
        st["details"] = details
    if code != 200:
        st["code"] = code
    return st
