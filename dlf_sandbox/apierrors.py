"""Error answers exactly as DLF and API Gateway give them: HTTP status + `{"error_code", "error_msg"}`.

DLF.0100, DLF.0137, DLF.3051 and DLF.6888 are documented codes. DLF's docs name no code for "workspace does not
exist" nor for "this instance's status does not allow the operation"; the sandbox uses DLF.0818 and DLF.0812 for
them (any DLF.xxxx code must be handled as a rejected request anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ApiError(Exception):
    """An error answer: raised anywhere while handling a request, turned into the response by the server."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self, request_id: str, *, camel_case: bool = False) -> dict[str, str]:
        """The JSON body; API Gateway adds its request id, DLF does not. `camel_case`: DLF errors spelled as in
        the OpenAPI schema (`errorCode`, `errorMsg`) instead of the docs' `error_code`, `error_msg`."""
        if self.code.startswith("APIG"):
            return {"error_code": self.code, "error_msg": self.message, "request_id": request_id}
        if camel_case:
            return {"errorCode": self.code, "errorMsg": self.message}
        return {"error_code": self.code, "error_msg": self.message}


def job_not_found() -> ApiError:
    return ApiError(400, "DLF.0100", "The job does not exist.")


def instance_not_found() -> ApiError:
    return ApiError(400, "DLF.0137", "Job instance does not exist.")


def invalid_parameter(detail: str) -> ApiError:
    return ApiError(400, "DLF.3051", f"The request parameter is invalid. {detail}")


def workspace_not_found() -> ApiError:
    return ApiError(400, "DLF.0818", "Workspace does not exists.")


def status_forbids(operation: str, status: str) -> ApiError:
    return ApiError(400, "DLF.0812", f"The job instance status {status} does not allow {operation}.")


def permission_denied(detail: str = "") -> ApiError:
    return ApiError(403, "DLF.6888", f"Permission invalid. {detail}".strip())


def unknown_api() -> ApiError:
    return ApiError(404, "APIG.0101", "The API does not exist or has not been published in the environment.")


def iam_auth_failed(reason: str) -> ApiError:
    return ApiError(401, "APIG.0301", f"Incorrect IAM authentication information: {reason}")


def token_must_be_updated() -> ApiError:
    return ApiError(401, "APIG.0307", "The token must be updated.")


def throttled(retry_after: float | None) -> ApiError:
    headers = {} if retry_after is None else {"Retry-After": _seconds(retry_after)}
    return ApiError(
        429,
        "APIG.0308",
        "The throttling threshold has been reached: policy user over ratelimit,limit:30,time:1 second",
        headers,
    )


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
