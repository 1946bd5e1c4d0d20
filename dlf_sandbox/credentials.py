"""The sandbox's public test credentials: fine to print, useless anywhere but on loopback."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WORKSPACE_ID = "0d6c4e2f6a7b4c0b9a3f2e1d5c4b3a29"
ANALYTICS_WORKSPACE_ID = "7f1e2d3c4b5a49688776655443322110"


@dataclass(frozen=True, kw_only=True)
class SandboxCredentials:
    """Everything a client needs to talk to the sandbox, for both ways of authenticating.

    AK/SK: `ak`/`sk` (permanent), or `temp_ak`/`temp_sk` + `security_token` (temporary: requests must carry
    `X-Security-Token`). IAM token: `iam_username`/`iam_password`/`iam_domain` at `POST /v3/auth/tokens`, or the
    pre-issued `static_token` (what `DLF_AUTH_TOKEN` would hold).
    """

    ak: str = "SANDBOXAK0000000000001"
    sk: str = "sandbox-sk-public-test-value-0001"
    temp_ak: str = "SANDBOXTEMPAK00000001"
    temp_sk: str = "sandbox-temp-sk-public-test-value"
    security_token: str = "sandbox-security-token-public-test-value"
    project_id: str = "b384b9e9ab9b4ee8994c8633aabc9505"
    region: str = "cn-north-4"
    iam_username: str = "sandbox-user"
    iam_password: str = "sandbox-password"
    iam_domain: str = "sandbox-account"
    static_token: str = "MIIsandbox-static-token-public-test-value"
    workspace: str = DEFAULT_WORKSPACE_ID

    def as_env(self, base_url: str) -> dict[str, str]:
        """The environment variables a bot process would use to reach this sandbox with AK/SK."""
        return {
            "DLF_ENDPOINT": base_url,
            "DLF_REGION": self.region,
            "HUAWEICLOUD_SDK_AK": self.ak,
            "HUAWEICLOUD_SDK_SK": self.sk,
            "HUAWEICLOUD_SDK_PROJECT_ID": self.project_id,
        }


SANDBOX_CREDENTIALS = SandboxCredentials()
